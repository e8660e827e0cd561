namespace ProcessPools;

/// <summary>A snapshot of a pool, for dashboards and status endpoints (<see cref="IProcessPool.GetStatus"/>).</summary>
/// <param name="Name">The pool's name.</param>
/// <param name="IsAcceptingJobs">Whether the pool takes new jobs (started and not closed).</param>
/// <param name="Processes">The configured number of workers.</param>
/// <param name="ChildConcurrency">The configured number of jobs per worker.</param>
/// <param name="Workers">The live worker processes, including those starting, spare and draining.</param>
/// <param name="QueueLengths">The jobs waiting in each queue.</param>
/// <param name="InFlight">The jobs running in workers.</param>
/// <param name="WorkerRestarts">How many workers were started after the pool's start (replacements and recycling).</param>
/// <param name="StartFailure">Why no worker is running, when the pool is in a crash loop; otherwise <see langword="null"/>.</param>
public sealed record ProcessPoolStatus(
    string Name,
    bool IsAcceptingJobs,
    int Processes,
    int ChildConcurrency,
    IReadOnlyList<WorkerStatus> Workers,
    IReadOnlyList<int> QueueLengths,
    int InFlight,
    long WorkerRestarts,
    string? StartFailure)
{
    /// <summary>Gets the number of workers ready for jobs.</summary>
    public int ReadyWorkers => Workers.Count(w => w.State == WorkerState.Ready);

    /// <summary>Gets the jobs waiting in all queues.</summary>
    public int Queued => QueueLengths.Sum();
}

/// <summary>One worker process in a <see cref="ProcessPoolStatus"/>.</summary>
/// <param name="WorkerId">The worker's number in its pool.</param>
/// <param name="ProcessId">The process id.</param>
/// <param name="State">Where it is in its life.</param>
/// <param name="InFlight">The jobs it runs now.</param>
/// <param name="Completed">The jobs it answered.</param>
/// <param name="StartedAt">When it became ready.</param>
public sealed record WorkerStatus(int WorkerId, int ProcessId, WorkerState State, int InFlight, long Completed, DateTimeOffset? StartedAt);

/// <summary>Where a worker process is in its life.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<WorkerState>))]
public enum WorkerState
{
    /// <summary>Launched; its host is being built.</summary>
    Starting,

    /// <summary>Takes jobs.</summary>
    Ready,

    /// <summary>Started and ready, waiting to take the place of a worker that retires or dies (<c>SpareWorkers</c>).</summary>
    Spare,

    /// <summary>Takes no more jobs (recycling or closing) and finishes those it has.</summary>
    Draining,

    /// <summary>Gone.</summary>
    Exited,
}
