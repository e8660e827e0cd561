using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using ProcessPools.Dispatch;
using ProcessPools.Generated;
using ProcessPools.Protocol;

namespace ProcessPools.Orleans;

/// <summary>
/// A silo's execution grain: hands each job to the silo's local pool as bytes (<see cref="PoolEngine.InvokeSerializedAsync"/>)
/// and answers with the worker's bytes, so nothing is deserialized on the silo. Reentrant: its calls only wait on the pool.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2007", Justification = "Grain code continues on the activation's scheduler (ORLEANS0014).")]
[Reentrant]
[SiloPinnedPlacement]
[GrainType(GrainTypeName)]
internal sealed class ProcessPoolGrain(IServiceProvider services) : Grain, IProcessPoolGrain
{
    /// <summary>The grain type; a silo whose manifest lists it runs the execution grain.</summary>
    public const string GrainTypeName = "processpool-exec";

    private readonly ConcurrentDictionary<(Guid FrontEnd, long Call), byte> _running = new();
    private PoolEngine? _pool;

    private PoolEngine Pool => _pool ??= Find();

    private PoolEngine Find() => services.GetService<ExecutionMarker>() is null
        ? throw new InvalidOperationException("This silo does not run process pool jobs: call AddProcessPoolExecution() on its silo builder.")
        : services.GetKeyedService<PoolEngine>(SiloPinnedPlacementDirector.RestOf(this.GetPrimaryKeyString()))
        ?? throw new InvalidOperationException(
            $"This silo has no process pool named '{SiloPinnedPlacementDirector.RestOf(this.GetPrimaryKeyString())}': add it with services.AddProcessPool(...) beside AddProcessPoolExecution().");

    public Task<JobReply> InvokeAsync(JobCall call, CancellationToken cancellationToken)
    {
        var options = call.Timeout is { } timeout ? new JobOptions { Timeout = timeout } : null;
        return RunAsync((call.FrontEnd, call.CallId), call.Job, call.Arguments, itemCount: 0, options, cancellationToken);
    }

    public Task<JobReply> InvokeChunkAsync(ChunkCall call, CancellationToken cancellationToken) =>
        RunAsync((call.FrontEnd, call.CallId), call.Job, call.Items, call.Count, options: null, cancellationToken);

    public Task<long[]> UnknownCallsAsync(Guid frontEnd, long[] calls) =>
        Task.FromResult(calls.Where(call => !_running.ContainsKey((frontEnd, call))).ToArray());

    /// <summary>
    /// Hands the job to the pool and turns its answer into the reply where the answer is read, without coming back to
    /// the activation first: the reply touches no state of the grain, and each scheduling hop is paid in latency.
    /// </summary>
    private Task<JobReply> RunAsync((Guid, long) call, JobName job, byte[] arguments, int itemCount, JobOptions? options, CancellationToken cancellationToken)
    {
        Task<byte[]> running;
        _running.TryAdd(call, 0);
        try
        {
            running = Pool.InvokeSerializedAsync(JobNames.Resolve(job), arguments, itemCount, options, cancellationToken);
        }
        catch (Exception exception)
        {
            _running.TryRemove(call, out _);
            return Task.FromResult(Replies.Of(exception));
        }

        var pool = _pool!;
        return running.ContinueWith(
            static (task, state) =>
            {
                var (pool, cancellationToken, running, call) = ((PoolEngine, CancellationToken, ConcurrentDictionary<(Guid, long), byte>, (Guid, long)))state!;
                running.TryRemove(call, out _);
                if (task.IsCompletedSuccessfully)
                {
                    return new JobReply { Outcome = JobOutcome.Succeeded, Result = task.Result };
                }

                var exception = task.IsCanceled ? new OperationCanceledException(cancellationToken) : task.Exception!.InnerException!;
                if (exception is WorkerLostException or OperationCanceledException && !cancellationToken.IsCancellationRequested && !pool.GetStatus().IsAcceptingJobs)
                {
                    // The silo is going down and its pool ended the job: not the job's failure, so the front end sends it elsewhere.
                    return new JobReply { Outcome = JobOutcome.SiloStopping, Error = Replies.Of(exception).Error };
                }

                return Replies.Of(exception);
            },
            (pool, cancellationToken, _running, call),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public Task<SiloPoolReport> GetReportAsync()
    {
        var pool = Pool;
        var status = pool.GetStatus();
        return Task.FromResult(new SiloPoolReport
        {
            Capacity = status.Processes * status.ChildConcurrency,
            InFlight = status.InFlight,
            Queued = status.Queued,
            IsAcceptingJobs = status.IsAcceptingJobs,
            WorkerRestarts = status.WorkerRestarts,
            Workers = [.. status.Workers.Select(w => new SiloWorker { WorkerId = w.WorkerId, ProcessId = w.ProcessId, State = (int)w.State, InFlight = w.InFlight, Completed = w.Completed })],
        });
    }
}

/// <summary>Turns what the silo's pool threw into a reply the front end turns back into the same exception.</summary>
internal static class Replies
{
    public static JobReply Of(Exception exception) => exception switch
    {
        RemoteJobException remote => new() { Outcome = JobOutcome.Faulted, Error = FaultOf(remote) },
        TimeoutException timeout => new() { Outcome = JobOutcome.TimedOut, Error = Plain(timeout) },
        OperationCanceledException canceled => new() { Outcome = JobOutcome.Canceled, Error = Plain(canceled) },
        WorkerLostException lost => new() { Outcome = JobOutcome.WorkerLost, Error = Plain(lost) with { ProcessId = lost.ProcessId, ExitCode = lost.ExitCode } },
        _ => new() { Outcome = JobOutcome.Refused, Error = Plain(exception) },
    };

    /// <summary>The job's own exception, as its worker reported it: the type, message and stack of the first hop, kept.</summary>
    public static RemoteFault FaultOf(RemoteJobException remote) => new()
    {
        TypeHierarchy = [.. remote.RemoteTypeHierarchy],
        Message = remote.RemoteMessage,
        StackTrace = remote.RemoteStackTrace,
        Inner = remote.InnerExceptions.Count == 0 ? null : [.. remote.InnerExceptions.Select(FaultOf)],
    };

    /// <summary>What the silo's pool itself threw (not a job's exception): its type hierarchy, message and stack, as a worker reports a fault.</summary>
    private static RemoteFault Plain(Exception exception)
    {
        var error = RemoteError.From(exception, depth: RemoteError.MaxDepth); // the full depth: inner exceptions are not followed
        return new RemoteFault { TypeHierarchy = [.. error.TypeHierarchy], Message = error.Message, StackTrace = error.StackTrace };
    }
}

/// <summary>Names a job portably (front end) and finds it again (silo).</summary>
internal static class JobNames
{
    private static readonly ConcurrentDictionary<JobTarget, JobName> Names = new();
    private static readonly ConcurrentDictionary<JobName, JobTarget> Targets = new();

    public static JobName Of(JobTarget target) => Names.TryGetValue(target, out var known) ? known : Names.GetOrAdd(target, Create);

    private static JobName Create(JobTarget target)
    {
        if (target.GeneratedId is { } id)
        {
            return new JobName { Kind = (int)target.Kind, Name = target.Name, GeneratedId = id, SiteType = target.GeneratedSite?.DeclaringType, SiteMethod = target.GeneratedSite?.Method };
        }

        switch (target.Kind)
        {
            case JobTargetKind.JobClass:
                return new JobName { Kind = (int)target.Kind, Name = target.Name, TypeName = target.JobType!.AssemblyQualifiedName };
            case JobTargetKind.Request:
                return new JobName { Kind = (int)target.Kind, Name = target.Name, TypeName = target.ParameterTypes[0].AssemblyQualifiedName, ResultTypeName = target.ResultType.AssemblyQualifiedName };
            default:
                var method = target.Method!;
                return new JobName
                {
                    Kind = (int)target.Kind,
                    Name = target.Name,
                    AssemblyName = method.Module.Assembly.FullName,
                    ModuleVersionId = method.Module.ModuleVersionId,
                    MetadataToken = method.MetadataToken,
                };
        }
    }

    /// <summary>The job a front end named, in this process.</summary>
    /// <exception cref="InvalidOperationException">This process does not have that job: it runs another build of the application.</exception>
    public static JobTarget Resolve(JobName name) => Targets.TryGetValue(name, out var known) ? known : Targets.GetOrAdd(name, Find);

    private static JobTarget Find(JobName name)
    {
        if (name.GeneratedId is { } id)
        {
            return GeneratedRegistry.Target(id, new GeneratedSite(name.SiteType, name.SiteMethod));
        }

        switch ((JobTargetKind)name.Kind)
        {
            case JobTargetKind.JobClass:
                return JobTarget.FromJobType(TypeOf(name.TypeName, name));
            case JobTargetKind.Request:
                return JobTarget.ForRequest(TypeOf(name.TypeName, name), TypeOf(name.ResultTypeName, name));
            default:
                Assembly assembly;
                try
                {
                    assembly = Assembly.Load(new AssemblyName(name.AssemblyName!));
                }
                catch (Exception exception) when (exception is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    throw new InvalidOperationException($"Job '{name.Name}' lives in '{name.AssemblyName}', which this silo cannot load: {exception.Message}", exception);
                }

                var module = assembly.ManifestModule;
                if (module.ModuleVersionId != name.ModuleVersionId)
                {
                    throw new InvalidOperationException(
                        $"Job '{name.Name}' comes from another build of '{assembly.GetName().Name}' than this silo runs (module version {name.ModuleVersionId}, here {module.ModuleVersionId}): deploy the same build to the front end and the silos.");
                }

                var method = module.ResolveMethod(name.MetadataToken) as MethodInfo
                    ?? throw new InvalidOperationException($"Job '{name.Name}' names no method in '{assembly.GetName().Name}'.");
                return JobTarget.FromMethod(method);
        }
    }

    private static Type TypeOf(string? typeName, JobName name) =>
        Type.GetType(typeName ?? string.Empty, throwOnError: false)
        ?? throw new InvalidOperationException($"Job '{name.Name}' needs the type '{typeName}', which this silo does not have: deploy the same build to the front end and the silos.");
}
