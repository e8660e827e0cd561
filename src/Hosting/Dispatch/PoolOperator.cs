using ProcessPools.Operations;
using ProcessPools.Supervision;

namespace ProcessPools.Dispatch;

/// <summary>A local pool's <see cref="IProcessPoolOperator"/>: reads what the pool keeps, acts through its own paths.</summary>
internal sealed class PoolOperator(PoolEngine engine) : IProcessPoolOperator
{
    public string Name => engine.Name;

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
            Running = pump?.Running() ?? [],
        };
    }

    public IDisposable ObserveDurations() => engine.Telemetry.Ledger.ObserveDurations();

    public IReadOnlyList<TimeSpan> TakeDurations() => engine.Telemetry.Ledger.TakeDurations();

    public IReadOnlyList<JobFailureRecord> RecentFailures() => engine.Telemetry.Ledger.Failures.NewestFirst();

    public IReadOnlyList<WorkerOutputLine>? WorkerOutput(int workerId) => Find(workerId)?.RecentOutput();

    public OperatorAnswer RecycleWorker(int workerId) => Act(workerId, worker =>
        worker.Jobs is WorkerPump pump && pump.Recycle());

    public OperatorAnswer KillWorker(int workerId) => Act(workerId, worker =>
    {
        worker.Kill("was killed by an operator");
        return true;
    });

    public OperatorAnswer CancelJob(long jobId)
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

    public OperatorAnswer Drain()
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        engine.Context.DispatchGate.Close();
        return OperatorAnswer.Done;
    }

    public OperatorAnswer ResumeDispatch()
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        engine.Context.DispatchGate.Open();
        return OperatorAnswer.Done;
    }

    private WorkerConnection? Find(int workerId) => engine.Slots.Live.FirstOrDefault(w => w.Id == workerId);

    private OperatorAnswer Act(int workerId, Func<WorkerConnection, bool> action)
    {
        if (engine.Lifecycle.IsClosing)
        {
            return OperatorAnswer.Closing;
        }

        return Find(workerId) is { IsDead: false } worker && worker.State is not WorkerState.Exited && action(worker) ? OperatorAnswer.Done : OperatorAnswer.NotFound;
    }
}
