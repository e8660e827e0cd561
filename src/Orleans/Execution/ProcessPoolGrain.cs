using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using ProcessPools.Operations;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.Placement;
using ProcessPools.Transport;

namespace ProcessPools.Orleans.Execution;

/// <summary>
/// A silo's execution grain: hands each job to the silo's local pool as bytes, through the pool's public transport seam
/// (<see cref="ISerializedJobInvoker"/>), and answers with the worker's bytes, so nothing is deserialized on the silo.
/// Reentrant: its calls only wait on the pool.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2007", Justification = "Grain code continues on the activation's scheduler (ORLEANS0014).")]
[Reentrant]
[SiloPinnedPlacement]
[GrainType(IProcessPoolGrain.GrainTypeName)]
internal sealed class ProcessPoolGrain(IServiceProvider services) : Grain, IProcessPoolGrain
{
    private ISerializedJobInvoker? _pool;
    private IProcessPoolOperator? _operator;
    private ExecutionDrain? _drain;

    private ISerializedJobInvoker Pool => _pool ??= Find();

    private ExecutionDrain Drain => _drain ??= services.GetService<ExecutionDrain>()
        ?? throw new InvalidOperationException("This silo does not run process pool jobs: call AddProcessPoolExecution() on its silo builder.");

    private IProcessPoolOperator Operator => _operator ??= services.GetKeyedService<IProcessPoolOperator>(PoolName)
        ?? throw new InvalidOperationException($"This silo has no process pool named '{PoolName}'.");

    /// <summary>The name of the silo's pool this activation serves (its key after the silo).</summary>
    private string PoolName => SiloPinnedPlacementDirector.RestOf(this.GetPrimaryKeyString());

    /// <summary>This silo's name, as the front ends' directories name it.</summary>
    private string Silo => SiloPinnedPlacementDirector.SiloOf(this.GetPrimaryKeyString()).ToString();

    private ISerializedJobInvoker Find()
    {
        _ = Drain;
        var name = PoolName;
        return services.GetKeyedService<ISerializedJobInvoker>(name)
            ?? throw new InvalidOperationException($"This silo has no process pool named '{name}': add it with services.AddProcessPool(...) beside AddProcessPoolExecution().");
    }

    public Task<JobReply> InvokeAsync(JobCall call, CancellationToken cancellationToken)
    {
        var options = call.Timeout is { } timeout ? new JobOptions { Timeout = timeout } : null;
        return RunAsync((call.FrontEnd, call.CallId), call.Job, call.Arguments, itemCount: 0, options, cancellationToken);
    }

    public Task<JobReply> InvokeChunkAsync(ChunkCall call, CancellationToken cancellationToken) =>
        RunAsync((call.FrontEnd, call.CallId), call.Job, call.Items, call.Count, options: null, cancellationToken);

    public Task<CallCheck> CheckCallsAsync(Guid frontEnd, long[] calls) => Task.FromResult(Drain.Check(frontEnd, calls));

    /// <summary>
    /// Hands the job to the pool and turns its answer into the reply where the answer is read, without coming back to
    /// the activation first: the reply touches no state of the grain, and each scheduling hop is paid in latency.
    /// </summary>
    private Task<JobReply> RunAsync((Guid, long) call, JobIdentity job, byte[] arguments, int itemCount, JobOptions? options, CancellationToken cancellationToken)
    {
        ISerializedJobInvoker pool;
        try
        {
            pool = Pool;
        }
        catch (InvalidOperationException exception)
        {
            return Task.FromResult(Replies.Of(exception));
        }

        var drain = Drain;
        if (!drain.TryEnter(call, pool.Options.ShutdownTimeout))
        {
            return Task.FromResult(Replies.Draining("the silo is stopping and takes no new job"));
        }

        Task<byte[]> running;
        try
        {
            running = pool.InvokeSerializedAsync(Resolve(job), arguments, itemCount, options, cancellationToken);
        }
        catch (ObjectDisposedException closed)
        {
            // The silo's pool is closed: nothing ran, so the job goes to another silo.
            drain.Exit(call, reply: null);
            return Task.FromResult(Replies.Draining(closed.Message));
        }
        catch (Exception exception)
        {
            var refused = Replies.Of(exception);
            drain.Exit(call, refused);
            return Task.FromResult(refused);
        }

        return running.ContinueWith(
            static (task, state) =>
            {
                var (pool, drain, cancellationToken, call) = ((ISerializedJobInvoker, ExecutionDrain, CancellationToken, (Guid, long)))state!;
                var reply = ReplyOf(task, pool, cancellationToken);
                drain.Exit(call, reply);
                return reply;
            },
            (pool, drain, cancellationToken, call),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static JobReply ReplyOf(Task<byte[]> task, ISerializedJobInvoker pool, CancellationToken cancellationToken)
    {
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
    }

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A silo runs the same build as its front ends; this package is not trimmed.")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "A silo runs the same build as its front ends; this package is not compiled ahead of time.")]
    private static JobTarget Resolve(JobIdentity job) => job.Resolve();

    public Task<SiloPoolReport> GetReportAsync()
    {
        var status = Pool.GetStatus();
        var silo = Silo;
        return Task.FromResult(new SiloPoolReport
        {
            Capacity = status.Processes * status.ChildConcurrency,
            Queued = status.Queued,
            IsAcceptingJobs = status.IsAcceptingJobs && !Drain.IsDraining,
            IsDraining = Drain.IsDraining,
            WorkerRestarts = status.WorkerRestarts,
            Workers = [.. status.Workers.Select(w => SiloWorker.Of(w, silo))],
        });
    }

    public async Task<byte[]> InspectAsync()
    {
        var silo = Silo;
        var inspection = await Operator.InspectAsync();
        inspection = inspection with { Workers = [.. inspection.Workers.Select(w => w with { Node = silo })] };
        return JsonSerializer.SerializeToUtf8Bytes(inspection, OperatorJson.Default.PoolInspection);
    }

    public async Task<byte[]> RecentFailuresAsync()
    {
        var silo = Silo;
        var failures = await Operator.RecentFailuresAsync();
        return JsonSerializer.SerializeToUtf8Bytes([.. failures.Select(f => f with { Node = silo })], OperatorJson.Default.JobFailureRecordArray);
    }

    public async Task<byte[]?> WorkerOutputAsync(int workerId) =>
        await Operator.WorkerOutputAsync(workerId) is { } lines
            ? JsonSerializer.SerializeToUtf8Bytes([.. lines], OperatorJson.Default.WorkerOutputLineArray)
            : null;

    public async Task<int> OperateAsync(OperatorAction action, long target)
    {
        var pool = Operator;
        var answer = action switch
        {
            OperatorAction.Recycle when target is > 0 and <= int.MaxValue => await pool.RecycleWorkerAsync((int)target),
            OperatorAction.Kill when target is > 0 and <= int.MaxValue => await pool.KillWorkerAsync((int)target),
            OperatorAction.Cancel => await pool.CancelJobAsync(target),
            OperatorAction.Drain => await pool.DrainAsync(),
            OperatorAction.Resume => await pool.ResumeDispatchAsync(),
            _ => OperatorAnswer.NotFound,
        };
        return (int)answer;
    }
}
