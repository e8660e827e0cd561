using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using ProcessPools.Generated;
using ProcessPools.Jobs;

namespace ProcessPools;

/// <summary>
/// Identifies a job that a worker process can run: a static method (or a non-capturing lambda), a job
/// class implementing <see cref="IProcessJob{TArgument, TResult}"/>, or a request that the pool maps to its
/// registered job class.
/// </summary>
/// <remarks>
/// Only the identity crosses the process boundary (the id ProcessPool's source generator gave the call; for a
/// delegate it could not see, assembly, module version id and metadata token; or the job class's type name), never
/// the delegate itself. That is why a delegate that captures state or is bound
/// to an instance is refused: the child could not rebuild what it captured. Parameters of type
/// <see cref="CancellationToken"/> and <see cref="IServiceProvider"/> are bound in the child and not sent. An
/// <see cref="IProgress{T}"/> parameter takes the caller's progress sink, which stays in the parent and
/// receives the job's reports in order.
/// </remarks>
public sealed class JobTarget
{
    private const string JobAdvice = "Pass the values the job needs as its arguments, and mark the lambda 'static' so the compiler checks it captures nothing.";

    private static readonly ConcurrentDictionary<MethodInfo, JobTarget> MethodTargets = new();
    private static readonly ConcurrentDictionary<Type, JobTarget> ClassTargets = new();
    private static readonly ConcurrentDictionary<(Type Request, Type Result), JobTarget> RequestTargets = new();

    private JobTarget(JobTargetKind kind, MethodInfo? method, Type? jobType, Type[] parameterTypes, Type resultType, string name)
    {
        Kind = kind;
        Method = method;
        JobType = jobType;
        ParameterTypes = parameterTypes;
        ResultType = resultType;
        Name = name;
        ProgressType = parameterTypes.Select(JobShape.ProgressValueType).FirstOrDefault(t => t is not null);
    }

    /// <summary>Gets what kind of job this is.</summary>
    public JobTargetKind Kind { get; }

    /// <summary>
    /// Gets the method the child runs: the static method or lambda, or the job class's <c>ExecuteAsync</c>;
    /// <see langword="null"/> for a <see cref="JobTargetKind.Request"/>, which the pool resolves to its job class.
    /// </summary>
    public MethodInfo? Method { get; }

    /// <summary>Gets the job class, for <see cref="JobTargetKind.JobClass"/>; otherwise <see langword="null"/>.</summary>
    public Type? JobType { get; }

    /// <summary>Gets the types of the parameters whose values are sent from the caller, in order.</summary>
    public IReadOnlyList<Type> ParameterTypes { get; }

    /// <summary>Gets the type of the job's result; <see cref="void"/> for a job that returns <see cref="Task"/> or <see cref="ValueTask"/>.</summary>
    public Type ResultType { get; }

    /// <summary>Gets a readable name (<c>Type.Method</c>, or the job class) used in exceptions, logs and traces.</summary>
    public string Name { get; }

    /// <summary>Gets the <c>T</c> of the job's <see cref="IProgress{T}"/> parameter, if it has one (at most one is allowed).</summary>
    public Type? ProgressType { get; }

    /// <summary>
    /// Gets the id ProcessPool's source generator gave this job (the worker calls it through generated code),
    /// or <see langword="null"/> for a job named by reflection.
    /// </summary>
    public string? GeneratedId { get; private init; }

    /// <summary>Gets where the parent's delegate points, for a generated job (read by the pool when it names the job to a worker).</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public GeneratedSite? GeneratedSite { get; private init; }

    /// <summary>Gets the target of a static method or a non-capturing lambda, by reflection.</summary>
    /// <remarks>
    /// Calls of <c>ApplyAsync</c>, <c>Map</c>, <c>StarMap</c> and <c>WorkerProcess.StartAsync</c> that pass the method or lambda
    /// directly do not come here: ProcessPool's source generator names their jobs at compile time.
    /// </remarks>
    /// <exception cref="ArgumentException">The delegate captures state, is bound to an instance, is generic, or does not return a task.</exception>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    [RequiresDynamicCode(JobShape.ReflectionPath)]
    public static JobTarget FromDelegate(Delegate job)
    {
        var method = JobShape.StaticMethodOf(job, nameof(job), "job", JobAdvice);
        return MethodTargets.TryGetValue(method, out var known) ? known : MethodTargets.GetOrAdd(method, Create(method));
    }

    /// <summary>Gets the target of a static method, by reflection: what <see cref="FromDelegate"/> gives for a delegate of it.</summary>
    /// <remarks>A cluster's silo uses it to name the job a front end sent by its assembly and metadata token.</remarks>
    /// <exception cref="ArgumentException">The method is not static, is generic, or does not return a task.</exception>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    [RequiresDynamicCode(JobShape.ReflectionPath)]
    public static JobTarget FromMethod(MethodInfo method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (!method.IsStatic)
        {
            throw new ArgumentException($"The job '{JobShape.Describe(method.DeclaringType)}.{method.Name}' is an instance method; a job is a static method.", nameof(method));
        }

        return MethodTargets.TryGetValue(method, out var known) ? known : MethodTargets.GetOrAdd(method, Create(method));
    }

    /// <summary>
    /// Gets the target of a job class implementing <see cref="IProcessJob{TArgument, TResult}"/>,
    /// created in the child from a dependency-injection scope per job.
    /// </summary>
    /// <exception cref="ArgumentException">The type is abstract, generic, or implements the job interface not exactly once.</exception>
    public static JobTarget FromJobType([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces | DynamicallyAccessedMemberTypes.PublicConstructors)] Type jobType)
    {
        ArgumentNullException.ThrowIfNull(jobType);
        return ClassTargets.TryGetValue(jobType, out var known) ? known : ClassTargets.GetOrAdd(jobType, CreateForClass(jobType));
    }

    /// <summary>
    /// Gets the target of a request: the pool runs the job class registered for <paramref name="requestType"/>
    /// (or its nearest base type) with <c>AddJob&lt;TJob&gt;()</c>. <c>pool.SendAsync(request)</c> uses it.
    /// </summary>
    /// <param name="requestType">The request's type, which is the job class's argument.</param>
    /// <param name="resultType">The result the caller expects; the pool checks the job class returns it.</param>
    public static JobTarget ForRequest(Type requestType, Type resultType)
    {
        ArgumentNullException.ThrowIfNull(requestType);
        ArgumentNullException.ThrowIfNull(resultType);
        return RequestTargets.GetOrAdd(
            (requestType, resultType),
            static key => new JobTarget(JobTargetKind.Request, null, null, [key.Request], key.Result, $"request {JobShape.Describe(key.Request)}"));
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>The target of a job the source generator named (see <see cref="GeneratedRegistry.Target(string, Delegate)"/>).</summary>
    internal static JobTarget FromGenerated(GeneratedJob job, GeneratedSite site, MethodInfo? method) =>
        new(JobTargetKind.Method, method, null, [.. job.SentTypes], job.ResultType, job.Name) { GeneratedId = job.Id, GeneratedSite = site };

    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    private static JobTarget Create(MethodInfo method)
    {
        var name = $"{JobShape.Describe(method.DeclaringType)}.{method.Name}";
        if (method.IsGenericMethod || method.DeclaringType is { ContainsGenericParameters: true } || method.DeclaringType?.IsGenericType == true)
        {
            throw BadJob($"The job '{name}' is generic or declared in a generic type; a worker process resolves jobs by metadata token, which names no type arguments. Use a non-generic method.");
        }

        if (method.Module.Assembly.IsDynamic)
        {
            throw BadJob($"The job '{name}' lives in a dynamic assembly, which a worker process cannot load.");
        }

        var resultType = JobShape.ResultTypeOf(method.ReturnType)
            ?? throw BadJob($"The job '{name}' returns {JobShape.Describe(method.ReturnType)}; a job must return Task, Task<T>, ValueTask or ValueTask<T>.");
        var sent = new List<Type>();
        foreach (var parameter in method.GetParameters())
        {
            if (parameter.ParameterType.IsByRef || parameter.ParameterType.IsPointer)
            {
                throw BadJob($"The job '{name}' has the by-reference or pointer parameter '{parameter.Name}'; only values can be sent to a worker process.");
            }

            if (!JobShape.IsBoundInChild(parameter.ParameterType))
            {
                sent.Add(parameter.ParameterType);
            }

            if (JobShape.ProgressValueType(parameter.ParameterType) is not null && sent.Count(t => JobShape.ProgressValueType(t) is not null) > 1)
            {
                throw BadJob($"The job '{name}' takes more than one IProgress<T> parameter; a job reports progress through one.");
            }
        }

        return new JobTarget(JobTargetKind.Method, method, null, [.. sent], resultType, name);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2065", Justification = "ExecuteAsync is the one method of IProcessJob<,>, which every job class implements and the worker calls.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "ExecuteAsync is the one method of IProcessJob<,>, which every job class implements and the worker calls.")]
    private static JobTarget CreateForClass([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type jobType)
    {
        if (jobType.IsAbstract || jobType.IsInterface || jobType.ContainsGenericParameters)
        {
            throw new ArgumentException($"The job class '{JobShape.Describe(jobType)}' must be a concrete, non-generic class.", nameof(jobType));
        }

        var interfaces = jobType.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IProcessJob<,>))
            .ToArray();
        if (interfaces.Length != 1)
        {
            throw new ArgumentException(
                $"The job class '{JobShape.Describe(jobType)}' must implement IProcessJob<TArgument, TResult> exactly once; it implements it {interfaces.Length} times.",
                nameof(jobType));
        }

        var contract = interfaces[0];
        var method = contract.GetMethod(nameof(IProcessJob<object, object>.ExecuteAsync))!;
        var arguments = contract.GetGenericArguments();
        return new JobTarget(JobTargetKind.JobClass, method, jobType, [arguments[0]], arguments[1], JobShape.Describe(jobType));
    }

    // The delegate is the 'job' parameter of the public calls (ApplyAsync, Map); the helpers that inspect it take other names.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter.")]
    private static ArgumentException BadJob(string message) => new(message, paramName: "job");
}

/// <summary>What kind of job a <see cref="JobTarget"/> names.</summary>
public enum JobTargetKind
{
    /// <summary>A static method or a non-capturing lambda.</summary>
    Method,

    /// <summary>A class implementing <see cref="IProcessJob{TArgument, TResult}"/>, created from dependency injection in the child.</summary>
    JobClass,

    /// <summary>A request whose type selects the job class registered with the pool (<see cref="JobTarget.ForRequest"/>).</summary>
    Request,
}
