using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ProcessPools;

/// <summary>
/// Identifies a job that a worker process can run: a static method (or a non-capturing lambda),
/// or a job class implementing <see cref="IProcessJob{TArgument, TResult}"/>.
/// </summary>
/// <remarks>
/// Only the identity crosses the process boundary (assembly, module version id and metadata token,
/// or the job class's type name), never the delegate itself. That is why a delegate that captures
/// state or is bound to an instance is refused: the child could not rebuild what it captured.
/// Parameters of type <see cref="CancellationToken"/> and <see cref="IServiceProvider"/> are bound in
/// the child and not sent. An <see cref="IProgress{T}"/> parameter takes the caller's progress sink, which
/// stays in the parent and receives the job's reports in order.
/// </remarks>
public sealed class JobTarget
{
    private static readonly ConcurrentDictionary<MethodInfo, JobTarget> MethodTargets = new();
    private static readonly ConcurrentDictionary<Type, JobTarget> ClassTargets = new();
    private static int s_lastId;

    private JobTarget(JobTargetKind kind, MethodInfo method, Type? jobType, Type[] parameterTypes, Type resultType, string name)
    {
        Kind = kind;
        Method = method;
        JobType = jobType;
        ParameterTypes = parameterTypes;
        ResultType = resultType;
        Name = name;
        Id = Interlocked.Increment(ref s_lastId);
        ProgressType = parameterTypes.Select(ProgressValueType).FirstOrDefault(t => t is not null);
    }

    /// <summary>Gets what kind of job this is.</summary>
    public JobTargetKind Kind { get; }

    /// <summary>Gets the method the child runs: the static method or lambda, or the job class's <c>ExecuteAsync</c>.</summary>
    public MethodInfo Method { get; }

    /// <summary>Gets the job class, for <see cref="JobTargetKind.JobClass"/>; otherwise <see langword="null"/>.</summary>
    public Type? JobType { get; }

    /// <summary>Gets the types of the parameters whose values are sent from the caller, in order.</summary>
    public IReadOnlyList<Type> ParameterTypes { get; }

    /// <summary>Gets the type of the job's result; <see cref="void"/> for a job that returns <see cref="Task"/> or <see cref="ValueTask"/>.</summary>
    public Type ResultType { get; }

    /// <summary>Gets a readable name (<c>Type.Method</c>) used in exceptions, logs and traces.</summary>
    public string Name { get; }

    /// <summary>The <c>T</c> of the job's <see cref="IProgress{T}"/> parameter, if it has one (at most one is allowed).</summary>
    internal Type? ProgressType { get; }

    /// <summary>A process-wide id, so the wire names a job by a number once the child has learnt it.</summary>
    internal int Id { get; }

    /// <summary>
    /// Gets the target of a static method or a non-capturing lambda.
    /// </summary>
    /// <exception cref="ArgumentException">The delegate captures state, is bound to an instance, is generic, or does not return a task.</exception>
    public static JobTarget FromDelegate(Delegate job)
    {
        var method = MethodOf(job, nameof(job));
        return MethodTargets.TryGetValue(method, out var known) ? known : MethodTargets.GetOrAdd(method, Create(method));
    }

    /// <summary>
    /// The method of a delegate that a worker process can rebuild from its identity alone: a static
    /// method or a lambda that captures nothing. Also used for code that configures a worker's host.
    /// </summary>
    internal static MethodInfo MethodOf(Delegate callback, string paramName)
    {
        ArgumentNullException.ThrowIfNull(callback, paramName);
        if (callback.HasSingleTarget is false)
        {
            throw new ArgumentException("The delegate must be a single method; this one combines several.", paramName);
        }

        var method = callback.Method;
        if (callback.Target is { } target)
        {
            CheckNonCapturing(target, method, paramName);
        }

        return method;
    }

    /// <summary>
    /// Gets the target of a job class implementing <see cref="IProcessJob{TArgument, TResult}"/>,
    /// created in the child from a dependency-injection scope per job.
    /// </summary>
    /// <exception cref="ArgumentException">The type is abstract, generic, or implements the job interface not exactly once.</exception>
    public static JobTarget FromJobType(Type jobType)
    {
        ArgumentNullException.ThrowIfNull(jobType);
        return ClassTargets.TryGetValue(jobType, out var known) ? known : ClassTargets.GetOrAdd(jobType, CreateForClass(jobType));
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    private static void CheckNonCapturing(object target, MethodInfo method, string paramName)
    {
        var type = target.GetType();
        var name = $"{Describe(method.DeclaringType)}.{method.Name}";
        if (type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false))
        {
            var captured = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            if (captured.Length == 0)
            {
                return; // a non-capturing lambda: the compiler's singleton closure holds nothing.
            }

            throw new ArgumentException(
                $"The lambda '{name}' captures {string.Join(", ", captured.Select(f => $"'{CapturedName(f.Name)}'"))}; " +
                "captured state cannot cross into a worker process. Pass the values as job arguments and mark the lambda 'static'.", paramName);
        }

        throw new ArgumentException(
            $"The method \'{name}\' is an instance method of {Describe(type)}; the instance cannot cross into a worker process. " +
            "Use a static method (or a static lambda), or a job class implementing IProcessJob<TArgument, TResult>.", paramName);
    }

    // The compiler names a captured 'this' '<>4__this' and a hoisted local 'x' '<x>5__2'.
    private static string CapturedName(string field) =>
        field.StartsWith("<>4__this", StringComparison.Ordinal) ? "this"
        : field.StartsWith('<') && field.IndexOf('>', StringComparison.Ordinal) is > 1 and var end ? field[1..end]
        : field;

    private static JobTarget Create(MethodInfo method)
    {
        var name = $"{Describe(method.DeclaringType)}.{method.Name}";
        if (method.IsGenericMethod || method.DeclaringType is { ContainsGenericParameters: true } || method.DeclaringType?.IsGenericType == true)
        {
            throw BadJob($"The job '{name}' is generic or declared in a generic type; a worker process resolves jobs by metadata token, which names no type arguments. Use a non-generic method.");
        }

        if (method.Module.Assembly.IsDynamic)
        {
            throw BadJob($"The job '{name}' lives in a dynamic assembly, which a worker process cannot load.");
        }

        var resultType = ResultTypeOf(method.ReturnType)
            ?? throw BadJob($"The job '{name}' returns {Describe(method.ReturnType)}; a job must return Task, Task<T>, ValueTask or ValueTask<T>.");
        var sent = new List<Type>();
        foreach (var parameter in method.GetParameters())
        {
            if (parameter.ParameterType.IsByRef || parameter.ParameterType.IsPointer)
            {
                throw BadJob($"The job '{name}' has the by-reference or pointer parameter '{parameter.Name}'; only values can be sent to a worker process.");
            }

            if (!IsBoundInChild(parameter.ParameterType))
            {
                sent.Add(parameter.ParameterType);
            }

            if (ProgressValueType(parameter.ParameterType) is not null && sent.Count(t => ProgressValueType(t) is not null) > 1)
            {
                throw BadJob($"The job '{name}' takes more than one IProgress<T> parameter; a job reports progress through one.");
            }
        }

        return new JobTarget(JobTargetKind.Method, method, null, [.. sent], resultType, name);
    }

    private static JobTarget CreateForClass(Type jobType)
    {
        if (jobType.IsAbstract || jobType.IsInterface || jobType.ContainsGenericParameters)
        {
            throw new ArgumentException($"The job class '{Describe(jobType)}' must be a concrete, non-generic class.", nameof(jobType));
        }

        var interfaces = jobType.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IProcessJob<,>))
            .ToArray();
        if (interfaces.Length != 1)
        {
            throw new ArgumentException(
                $"The job class '{Describe(jobType)}' must implement IProcessJob<TArgument, TResult> exactly once; it implements it {interfaces.Length} times.",
                nameof(jobType));
        }

        var contract = interfaces[0];
        var method = contract.GetMethod(nameof(IProcessJob<object, object>.ExecuteAsync))!;
        var arguments = contract.GetGenericArguments();
        return new JobTarget(JobTargetKind.JobClass, method, jobType, [arguments[0]], arguments[1], Describe(jobType));
    }

    // The delegate is the 'job' parameter of the public calls (ApplyAsync, Map); the helpers that inspect it take other names.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter.")]
    private static ArgumentException BadJob(string message) => new(message, paramName: "job");

    /// <summary>
    /// The <c>T</c> of an <see cref="IProgress{T}"/> parameter: the caller passes its own <see cref="IProgress{T}"/>,
    /// which stays in the parent; the job gets one whose reports travel back to it, in order.
    /// </summary>
    internal static Type? ProgressValueType(Type parameterType) =>
        parameterType.IsGenericType && parameterType.GetGenericTypeDefinition() == typeof(IProgress<>) ? parameterType.GetGenericArguments()[0] : null;

    /// <summary>Whether the child supplies a parameter of this type instead of the caller.</summary>
    internal static bool IsBoundInChild(Type parameterType) =>
        parameterType == typeof(CancellationToken) || parameterType == typeof(IServiceProvider);

    internal static Type? ResultTypeOf(Type returnType)
    {
        if (returnType == typeof(Task) || returnType == typeof(ValueTask))
        {
            return typeof(void);
        }

        if (returnType.IsGenericType)
        {
            var definition = returnType.GetGenericTypeDefinition();
            if (definition == typeof(Task<>) || definition == typeof(ValueTask<>))
            {
                return returnType.GetGenericArguments()[0];
            }
        }

        return null;
    }

    internal static string Describe(Type? type)
    {
        if (type is null)
        {
            return "<global>";
        }

        // Lambdas live in compiler-generated nested classes ('<>c'); name the user's type instead.
        while (type.DeclaringType is not null && type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false))
        {
            type = type.DeclaringType;
        }

        return type.FullName ?? type.Name;
    }
}

/// <summary>What kind of job a <see cref="JobTarget"/> names.</summary>
public enum JobTargetKind
{
    /// <summary>A static method or a non-capturing lambda.</summary>
    Method,

    /// <summary>A class implementing <see cref="IProcessJob{TArgument, TResult}"/>, created from dependency injection in the child.</summary>
    JobClass,
}
