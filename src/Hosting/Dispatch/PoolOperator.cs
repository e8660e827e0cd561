using System.Diagnostics;
using ProcessPools.Operations;
using ProcessPools.Supervision;

namespace ProcessPools.Dispatch;

/// <summary>
/// A local pool's <see cref="IProcessPoolOperator"/>: reads what the pool keeps, acts through its own paths. Answers at
/// once; a node argument other than null finds nothing (a local pool has no nodes).
/// </summary>
internal sealed class PoolOperator(PoolEngine engine) : IProcessPoolOperator
{
    public string Name => engine.Name;

    public ValueTask<PoolInspection> InspectAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Inspect());

    /// <summary>The pool now, with each live worker's memory and processor time read from the operating system.</summary>
    public PoolInspection Inspect()
    {
        var options = engine.Options;
        var ledger = engine.Telemetry.Ledger;
        return new PoolInspection
        {
            Name = engine.Name,
            At = engine.TimeProvider.GetUtcNow(),
            Processes = options.Processes,
            ChildConcurrency = options.ChildConcurrency,
            MaxTasksPerChild = options.MaxTasksPerChild,
            IsAcceptingJobs = engine.Lifecycle.IsRunning,
            IsDraining = !engine.Context.DispatchGate.IsOpen,
            QueueLengths = engine.Admission.QueueLengths,
            Running = engine.Admission.InFlightJobs,
            Succeeded = ledger.Succeeded,
            Failed = ledger.Failed,
            Cancelled = ledger.Cancelled,
            Retried = ledger.Retried,
            Restarts = engine.Slots.Restarts,
            CrashLoop = engine.Slots.CrashLoop?.Message,
            Workers = [.. engine.Slots.Live.OrderBy(w => w.Id).Select(Inspect)],
        };
    }

    private WorkerInspection Inspect(WorkerConnection worker)
    {
        var pump = worker.Jobs as WorkerPump;
        var perChild = engine.Options.MaxTasksPerChild;
        var (memory, processorTime) = worker.State is WorkerState.Exited || worker.ProcessId == 0 ? default : Usage(worker.ProcessId);
        return new WorkerInspection
        {
            WorkerId = worker.Id,
            ProcessId = worker.ProcessId == 0 ? null : worker.ProcessId,
            State = worker.State,
            Queue = worker.Queue,
            StartedAt = worker.StartedAt,
            Completed = pump?.CompletedCount ?? 0,
            JobsUntilRecycle = perChild > 0 && pump is not null ? Math.Max(0, perChild - pump.DispatchedCount) : null,
            LastHeardFrom = worker.LastHeardFrom,
            PredecessorExit = engine.Slots.PredecessorOf(worker.Slot),
            MemoryBytes = memory,
            ProcessorTime = processorTime,
            Running = pump?.Running() ?? [],
        };
    }

    /// <summary>A live worker's working set and processor time; nothing when it exited meanwhile or cannot be read.</summary>
    private static (long? Memory, TimeSpan? ProcessorTime) Usage(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return (process.WorkingSet64, process.TotalProcessorTime);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return default;
        }
    }

    public IDisposable ObserveDurations() => engine.Telemetry.Ledger.Durations.Observe();

    public IReadOnlyList<TimeSpan> TakeDurations() => engine.Telemetry.Ledger.Durations.Take();

    public ValueTask<IReadOnlyList<JobFailureRecord>> RecentFailuresAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(engine.Telemetry.Ledger.Failures.NewestFirst());

    public ValueTask<IReadOnlyList<WorkerOutputLine>?> WorkerOutputAsync(int workerId, string? node = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(node is null ? Find(workerId)?.RecentOutput() : null);

    public ValueTask<OperatorAnswer> RecycleWorkerAsync(int workerId, string? node = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Act(workerId, node, worker => worker.Jobs is WorkerPump pump && pump.Recycle()));

    public ValueTask<OperatorAnswer> KillWorkerAsync(int workerId, string? node = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Act(workerId, node, worker =>
        {
            worker.Kill("was killed by an operator");
            return true;
        }));

    public ValueTask<OperatorAnswer> CancelJobAsync(long jobId, string? node = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(node is null ? CancelJob(jobId) : OperatorAnswer.NotFound);

    public ValueTask<OperatorAnswer> DrainAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(Drain());

    public ValueTask<OperatorAnswer> ResumeDispatchAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(ResumeDispatch());

    private OperatorAnswer CancelJob(long jobId)
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        foreach (var worker in engine.Slots.Live)
        {
            if (worker.Jobs is WorkerPump pump && pump.FindRunning(jobId) is { } job)
            {
                engine.OnJobCanceled(job, new CancellationToken(canceled: true));
                return OperatorAnswer.Done;
            }
        }

        return OperatorAnswer.NotFound;
    }

    private OperatorAnswer Drain()
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        engine.Context.DispatchGate.Close();
        return OperatorAnswer.Done;
    }

    private OperatorAnswer ResumeDispatch()
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        engine.Context.DispatchGate.Open();
        return OperatorAnswer.Done;
    }

    private WorkerConnection? Find(int workerId) => engine.Slots.Live.FirstOrDefault(w => w.Id == workerId);

    private OperatorAnswer Act(int workerId, string? node, Func<WorkerConnection, bool> action)
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        return node is null && Find(workerId) is { IsDead: false } worker && worker.State is not WorkerState.Exited && action(worker) ? OperatorAnswer.Done : OperatorAnswer.NotFound;
    }
}
