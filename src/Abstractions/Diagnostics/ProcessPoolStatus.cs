namespace ProcessPools;

/// <summary>A snapshot of a pool, for dashboards and status endpoints (<see cref="IProcessPool.GetStatusAsync"/>).</summary>
public sealed class ProcessPoolStatus
{
    /// <summary>Gets the pool's name: the empty string for the default pool, as <see cref="IProcessPool.Name"/> (Options.DefaultName).</summary>
    public required string Name { get; init; }

    /// <summary>Gets whether the pool takes new jobs (started and not closed).</summary>
    public bool IsAcceptingJobs { get; init; }

    /// <summary>Gets the configured number of workers.</summary>
    public int Processes { get; init; }

    /// <summary>Gets the configured number of jobs per worker.</summary>
    public int ChildConcurrency { get; init; }

    /// <summary>Gets the live worker processes, including those starting, spare and draining.</summary>
    public IReadOnlyList<WorkerStatus> Workers { get; init; } = [];

    /// <summary>Gets the jobs waiting in each queue.</summary>
    public IReadOnlyList<int> QueueLengths { get; init; } = [];

    /// <summary>Gets the jobs running in workers.</summary>
    public int InFlight { get; init; }

    /// <summary>Gets how many workers were started after the pool's start (replacements and recycling).</summary>
    public long WorkerRestarts { get; init; }

    /// <summary>Gets why no worker is running, when the pool is in a crash loop; otherwise <see langword="null"/>.</summary>
    public string? StartFailure { get; init; }

    /// <summary>Gets the number of workers ready for jobs.</summary>
    public int ReadyWorkers => Workers.Count(w => w.State == WorkerState.Ready);

    /// <summary>Gets the jobs waiting in all queues.</summary>
    public int Queued => QueueLengths.Sum();
}

/// <summary>One worker process in a <see cref="ProcessPoolStatus"/>.</summary>
public sealed class WorkerStatus
{
    /// <summary>Gets the worker's number in its pool.</summary>
    public int WorkerId { get; init; }

    /// <summary>Gets the process id; <see langword="null"/> while the process is being launched.</summary>
    public int? ProcessId { get; init; }

    /// <summary>Gets where the worker is in its life.</summary>
    public WorkerState State { get; init; }

    /// <summary>Gets the queue the worker takes jobs from; <see langword="null"/> for a spare, which has none yet.</summary>
    public int? Queue { get; init; }

    /// <summary>Gets the jobs it runs now.</summary>
    public int InFlight { get; init; }

    /// <summary>Gets the jobs it answered.</summary>
    public long Completed { get; init; }

    /// <summary>Gets when it became ready; <see langword="null"/> while it starts.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>
    /// Gets the machine of the cluster the worker runs on (for a pool over a Microsoft Orleans cluster, its silo's address);
    /// <see langword="null"/> for a worker of this process's own pool.
    /// </summary>
    public string? Node { get; init; }
}

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
