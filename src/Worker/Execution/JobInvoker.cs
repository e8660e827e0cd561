using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using ProcessPools.Channels;
using ProcessPools.Generated;
using ProcessPools.Jobs;
using ProcessPools.Protocol;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Runs one job target in the child: resolved once from its <see cref="JobDefinition"/>, then invoked
/// for every job that names it. A job the source generator named is called through its generated invoker
/// (typed delegates, no reflection); any other through its <see cref="MethodInfo"/>.
/// </summary>
internal sealed class JobInvoker
{
    private static readonly MethodInfo AwaitTaskOfMethod = typeof(JobInvoker).GetMethod(nameof(AwaitTaskOf), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AwaitValueTaskOfMethod = typeof(JobInvoker).GetMethod(nameof(AwaitValueTaskOf), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly GeneratedInvoker? _generated;
    private readonly MethodInvoker? _invoker;
    private readonly object? _instance;
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)]
    private readonly Type? _jobType;
    private readonly ParameterSource[] _parameters;
    private readonly Func<object, ValueTask<object?>>? _await;
    private readonly bool _needsScope;
    private readonly bool _allSent;

    private JobInvoker(string name, GeneratedInvoker generated, IReadOnlyList<Type> sentTypes, Type resultType)
    {
        Name = name;
        _generated = generated;
        _parameters = [];
        ResultType = resultType;
        SentTypes = [.. sentTypes];
        SentProgressTypes = [.. SentTypes.Select(JobShape.ProgressValueType)];
        ReportsProgress = Array.Exists(SentProgressTypes, t => t is not null);
        _needsScope = generated.Scoped;
        Typed = generated.AcceptUnary(new TypedJobFactory(name));
    }

    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    [RequiresDynamicCode(JobShape.ReflectionPath)]
    private JobInvoker(string name, MethodInfo method, object? instance, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type? jobType, Type resultType)
    {
        Name = name;
        _invoker = MethodInvoker.Create(method); // emitted once per target: far cheaper per call than MethodInfo.Invoke, and exceptions come unwrapped
        _instance = instance;
        _jobType = jobType;
        ResultType = resultType;
        _parameters = [.. method.GetParameters().Select(p => p.ParameterType switch
        {
            var t when t == typeof(CancellationToken) => ParameterSource.CancellationToken,
            var t when t == typeof(IServiceProvider) => ParameterSource.Services,
            _ => ParameterSource.Sent,
        })];
        SentTypes = [.. method.GetParameters().Where(p => !JobShape.IsBoundInChild(p.ParameterType)).Select(p => p.ParameterType)];
        SentProgressTypes = [.. SentTypes.Select(JobShape.ProgressValueType)];
        ReportsProgress = Array.Exists(SentProgressTypes, t => t is not null);
        _needsScope = jobType is not null || _parameters.Contains(ParameterSource.Services);
        _allSent = _parameters.All(p => p == ParameterSource.Sent);
        Typed = TypedJob.TryCreate(name, method, instance, jobType);
        _await = CreateAwaiter(method.ReturnType);
    }

    private enum ParameterSource
    {
        Sent,
        CancellationToken,
        Services,
    }

    public string Name { get; }

    public Type[] SentTypes { get; }

    /// <summary>For each sent parameter, the T of an <see cref="IProgress{T}"/> parameter, or null (found once, not per call).</summary>
    public Type?[] SentProgressTypes { get; }

    /// <summary>Gets whether a sent parameter is an <see cref="IProgress{T}"/>.</summary>
    public bool ReportsProgress { get; }

    /// <summary>Gets the typed form of the job for chunks, when its shape allows one (one sent argument, a result).</summary>
    public TypedJob? Typed { get; }

    /// <summary>The result's type; <see cref="void"/> when the job returns none.</summary>
    public Type ResultType { get; }

    public static JobInvoker Create(JobDefinition definition)
    {
        if (definition.GeneratedId is { } id)
        {
            var job = GeneratedRegistry.TryGetJob(id, out var found)
                ? found
                : throw new InvalidOperationException($"The worker's compile-time registry has no job '{id}' ({definition.Name}): the worker runs a different build than the parent.");
            return FromGenerated(definition, job);
        }

        return definition.Kind == JobTargetKind.JobClass && GeneratedRegistry.TryGetJobClass(definition.JobTypeName!, out var jobClass)
            ? FromGenerated(definition, jobClass)
            : CreateByReflection(definition);
    }

    private static JobInvoker FromGenerated(JobDefinition definition, GeneratedJob job) =>
        new(definition.Name, job.Bind(new GeneratedSite(definition.SiteType, definition.SiteMethod)), job.SentTypes, job.ResultType);

    // The parent named this job by reflection (JobTarget.FromDelegate or FromJobType without generated code), which
    // carries RequiresUnreferencedCode/RequiresDynamicCode at the application's call site: the warning is there, not here.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only for jobs the parent named by reflection; the application's call site carries the warning.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only for jobs the parent named by reflection; the application's call site carries the warning.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Reached only for jobs the parent named by reflection; the application's call site carries the warning.")]
    private static JobInvoker CreateByReflection(JobDefinition definition)
    {
        if (definition.Kind == JobTargetKind.JobClass)
        {
            var jobType = ApplicationAssemblies.LoadType(new TypeReference(definition.JobTypeName!, definition.AssemblyPath), "job class");
            var target = JobTarget.FromJobType(jobType);
            return new JobInvoker(definition.Name, target.Method!, null, jobType, target.ResultType);
        }

        var method = ApplicationAssemblies.ResolveMethod(definition);
        var resultType = JobShape.ResultTypeOf(method.ReturnType)!;
        var instance = ApplicationAssemblies.InstanceFor(method);
        return new JobInvoker(definition.Name, method, instance, null, resultType);
    }

    public ValueTask<object?> InvokeAsync(object?[] sent, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (_generated is not null)
        {
            return _needsScope ? InvokeGeneratedScopedAsync(sent, services, cancellationToken) : _generated.InvokeAsync(sent, services, cancellationToken);
        }

        if (_needsScope)
        {
            return InvokeScopedAsync(sent, services, cancellationToken);
        }

        // No scope to dispose: a job that completed synchronously answers without an async state machine.
        try
        {
            return _await!(Call(_instance, sent, services, cancellationToken));
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<object?>(exception);
        }
    }

    private async ValueTask<object?> InvokeGeneratedScopedAsync(object?[] sent, IServiceProvider services, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            return await _generated!.InvokeAsync(sent, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<object?> InvokeScopedAsync(object?[] sent, IServiceProvider services, CancellationToken cancellationToken)
    {
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var instance = _jobType is null ? _instance : ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, _jobType);
            return await _await!(Call(instance, sent, scope.ServiceProvider, cancellationToken)).ConfigureAwait(false);
        }
    }

    private object Call(object? instance, object?[] sent, IServiceProvider services, CancellationToken cancellationToken)
    {
        // When every parameter is sent, the sent arguments are the call's arguments as they are.
        var values = _allSent ? sent : Bind(sent, services, cancellationToken);
        return _invoker!.Invoke(instance, values.AsSpan()) ?? throw JobShape.NullTask(Name);
    }

    private object?[] Bind(object?[] sent, IServiceProvider services, CancellationToken cancellationToken)
    {
        var values = new object?[_parameters.Length];
        var next = 0;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = _parameters[i] switch
            {
                ParameterSource.CancellationToken => cancellationToken,
                ParameterSource.Services => services,
                _ => sent[next++],
            };
        }

        return values;
    }

    /// <summary>The error of a job whose result could not be serialized (its caller gets it as the job's fault).</summary>
    /// <summary>
    /// Reads the job's sent arguments from an invoke payload, each as its declared type; an <see cref="IProgress{T}"/>
    /// argument is made by <paramref name="progress"/> (given its <c>T</c> and whether the caller connected a sink).
    /// </summary>
    /// <exception cref="NotSupportedException">The job reports progress and <paramref name="progress"/> is null.</exception>
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only jobs named by reflection (RequiresDynamicCode, warned at the application's call site) take IProgress<T>; the source generator does not name them.")]
    public object?[] ReadArguments(ref SequenceReader<byte> reader, IJobSerializer serializer, Func<Type, bool, object>? progress)
    {
        LentArguments? lent = null;
        return ReadArguments(ref reader, serializer, progress, lend: false, ref lent);
    }

    /// <summary>
    /// Reads the arguments as <see cref="ReadArguments(ref SequenceReader{byte}, IJobSerializer, Func{Type, bool, object}?)"/>
    /// does; with <paramref name="lend"/>, large memory arguments are lent (<see cref="LentArguments"/>), recorded in
    /// <paramref name="lent"/> for the caller to take back when the job is over (here already when reading fails).
    /// </summary>
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only jobs named by reflection (RequiresDynamicCode, warned at the application's call site) take IProgress<T>; the source generator does not name them.")]
    public object?[] ReadArguments(ref SequenceReader<byte> reader, IJobSerializer serializer, Func<Type, bool, object>? progress, bool lend, ref LentArguments? lent)
    {
        var arguments = new object?[SentTypes.Length];
        try
        {
            for (var i = 0; i < arguments.Length; i++)
            {
                var blob = InvokePayload.ReadArgument(ref reader, Name);
                arguments[i] = SentProgressTypes[i] is { } progressType
                    ? (progress ?? throw new NotSupportedException($"Job '{Name}' takes an IProgress<T>, which has no caller to report to here."))(progressType, InvokePayload.IsProgressConnected(blob))
                    : lend && LentArguments.Applies(SentTypes[i], serializer) ? LentArguments.Read(blob, SentTypes[i], serializer, ref lent)
                    : serializer.Deserialize(blob, SentTypes[i]);
            }
        }
        catch
        {
            lent?.Return();
            lent = null;
            throw;
        }

        return arguments;
    }

    /// <summary>Writes the job's result as the worker answers it; the error to answer instead when it cannot be sent.</summary>
    public Exception? WriteResult(object? result, IJobSerializer serializer, int maxMessageSize, PooledBufferWriter buffer)
    {
        try
        {
            if (ResultType != typeof(void))
            {
                serializer.Serialize(buffer, result, ResultType);
            }

            return buffer.WrittenCount > maxMessageSize
                ? new InvalidOperationException($"The result of job '{Name}' is {buffer.WrittenCount} bytes, over the channel's limit of {maxMessageSize} bytes (MaxMessageSize).")
                : null;
        }
        catch (Exception exception)
        {
            return Unserializable(Name, ResultType, exception);
        }
        finally
        {
            Release(result);
        }
    }

    /// <summary>
    /// A job that answers an <see cref="IMemoryOwner{T}"/> of bytes hands it over: once its bytes are written (or could
    /// not be), the worker disposes it, which gives a pooled buffer back to where the job rented it.
    /// </summary>
    internal static void Release<T>(T result)
    {
        if (result is IMemoryOwner<byte> owner)
        {
            owner.Dispose();
        }
    }

    internal static InvalidOperationException Unserializable(string jobName, Type resultType, Exception exception) =>
        new($"The result of job '{jobName}' ({resultType.FullName}) could not be serialized: {exception.Message}", exception);

    [RequiresDynamicCode("Makes the awaiter of a Task<T> or ValueTask<T> for a T known at run time.")]
    [RequiresUnreferencedCode("Makes the awaiter of a Task<T> or ValueTask<T> for a T known at run time.")]
    private static Func<object, ValueTask<object?>> CreateAwaiter(Type returnType)
    {
        if (returnType == typeof(Task))
        {
            return AwaitTask;
        }

        if (returnType == typeof(ValueTask))
        {
            return AwaitValueTask;
        }

        var definition = returnType.GetGenericTypeDefinition();
        var open = definition == typeof(Task<>) ? AwaitTaskOfMethod : AwaitValueTaskOfMethod;
        return open.MakeGenericMethod(returnType.GetGenericArguments()[0]).CreateDelegate<Func<object, ValueTask<object?>>>();
    }

    private static async ValueTask<object?> AwaitTask(object task)
    {
        await ((Task)task).ConfigureAwait(false);
        return null;
    }

    private static async ValueTask<object?> AwaitValueTask(object task)
    {
        await ((ValueTask)task).ConfigureAwait(false);
        return null;
    }

    private static ValueTask<object?> AwaitTaskOf<T>(object task)
    {
        var typed = (Task<T>)task;
        return typed.IsCompletedSuccessfully ? new ValueTask<object?>(typed.Result) : Slow(typed);

        static async ValueTask<object?> Slow(Task<T> pending) => await pending.ConfigureAwait(false);
    }

    private static ValueTask<object?> AwaitValueTaskOf<T>(object task)
    {
        var typed = (ValueTask<T>)task;
        return typed.IsCompletedSuccessfully ? new ValueTask<object?>(typed.Result) : Slow(typed);

        static async ValueTask<object?> Slow(ValueTask<T> pending) => await pending.ConfigureAwait(false);
    }

    /// <summary>Makes the typed chunk form of a generated one-argument job.</summary>
    private sealed class TypedJobFactory(string name) : IGeneratedUnaryVisitor<TypedJob>
    {
        public TypedJob Visit<TArgument, TResult>(Func<TArgument, CancellationToken, ValueTask<TResult>> job) => new TypedJob<TArgument, TResult>(name, job);
    }
}
