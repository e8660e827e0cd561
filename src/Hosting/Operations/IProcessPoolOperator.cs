namespace ProcessPools.Operations;

/// <summary>
/// What an operator can see of one pool and do to it: a detailed inspection, the recent failures, a worker's recent
/// output, and the actions a dashboard offers (recycle or kill a worker, cancel a running job, drain and resume).
/// Every pool an application adds registers one (keyed by its name, and in the list of all); the dashboard uses it,
/// and so can scripts and custom tools. It reads what the pool already keeps: inspecting costs nothing until called.
/// </summary>
public interface IProcessPoolOperator
{
    /// <summary>Gets the pool's name.</summary>
    string Name { get; }

    /// <summary>
    /// Takes a detailed snapshot of the pool and its workers. A local pool answers at once; a cluster pool asks each of
    /// its silos (a silo that does not answer within a few seconds shows as unreachable in <see cref="PoolInspection.Nodes"/>).
    /// </summary>
    ValueTask<PoolInspection> InspectAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets the last failed jobs (at most 200), newest first; a cluster pool's, of all its silos.</summary>
    ValueTask<IReadOnlyList<JobFailureRecord>> RecentFailuresAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the last lines (at most 200) a live worker wrote to its standard output and error; null when no live worker
    /// has that id.
    /// </summary>
    /// <param name="workerId">The worker's id (<see cref="WorkerInspection.WorkerId"/>).</param>
    /// <param name="node">The node that runs it (<see cref="WorkerInspection.Node"/>): a cluster pool's silo; null in a local pool.</param>
    /// <param name="cancellationToken">Ends the wait for a silo's answer.</param>
    ValueTask<IReadOnlyList<WorkerOutputLine>?> WorkerOutputAsync(int workerId, string? node = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts sampling how long answered jobs took, for an operator's charts. Nothing is kept while no observation is
    /// open; dispose the returned object to stop.
    /// </summary>
    IDisposable ObserveDurations();

    /// <summary>
    /// Takes the durations sampled since the last call: dispatch to answer, one per job (a map's chunk counts as one,
    /// its duration shared by its items; a cluster pool's, from sending to its silo to the answer), at most 4,096 per
    /// call. Empty while nothing observes.
    /// </summary>
    IReadOnlyList<TimeSpan> TakeDurations();

    /// <summary>Recycles a worker gracefully: a fresh worker takes its place at once, while it finishes its running jobs and exits.</summary>
    /// <param name="workerId">The worker's id.</param>
    /// <param name="node">The node that runs it: a cluster pool's silo; null in a local pool.</param>
    /// <param name="cancellationToken">Ends the wait for a silo's answer.</param>
    ValueTask<OperatorAnswer> RecycleWorkerAsync(int workerId, string? node = null, CancellationToken cancellationToken = default);

    /// <summary>Kills a worker now: its running jobs are retried (within their MaxRetries) or fail as lost, as on any worker death.</summary>
    /// <param name="workerId">The worker's id.</param>
    /// <param name="node">The node that runs it: a cluster pool's silo; null in a local pool.</param>
    /// <param name="cancellationToken">Ends the wait for a silo's answer.</param>
    ValueTask<OperatorAnswer> KillWorkerAsync(int workerId, string? node = null, CancellationToken cancellationToken = default);

    /// <summary>Cancels a running job, as its caller's token would: its worker is killed if it ignores the cancellation past the grace period.</summary>
    /// <param name="jobId">The job's id (<see cref="RunningJob.JobId"/>).</param>
    /// <param name="node">The node that runs it: a cluster pool's silo; null in a local pool.</param>
    /// <param name="cancellationToken">Ends the wait for a silo's answer.</param>
    ValueTask<OperatorAnswer> CancelJobAsync(long jobId, string? node = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops handing queued jobs to workers (calls are still accepted and wait); running jobs finish. A cluster pool
    /// drains every silo's pool.
    /// </summary>
    ValueTask<OperatorAnswer> DrainAsync(CancellationToken cancellationToken = default);

    /// <summary>Lets a drained pool hand jobs to its workers again (a cluster pool: every silo's).</summary>
    ValueTask<OperatorAnswer> ResumeDispatchAsync(CancellationToken cancellationToken = default);
}

/// <summary>The answer to an operator's action.</summary>
public enum OperatorAnswer
{
    /// <summary>The action was taken.</summary>
    Done,

    /// <summary>No live worker or no running job has that id (or the node named is not one of the pool's).</summary>
    NotFound,

    /// <summary>The pool is closing (or closed): it takes no action.</summary>
    Closing,
}

/// <summary>A detailed snapshot of a pool, for operators. A cluster pool's sums its silos' pools.</summary>
public sealed record PoolInspection
{
    /// <summary>Gets the pool's name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets when the snapshot was taken.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Gets the configured number of worker processes.</summary>
    public int Processes { get; init; }

    /// <summary>Gets how many jobs each worker runs at once.</summary>
    public int ChildConcurrency { get; init; }

    /// <summary>Gets the tasks after which a worker is recycled (MaxTasksPerChild), 0 for never.</summary>
    public int MaxTasksPerChild { get; init; }

    /// <summary>Gets whether the pool accepts new jobs (false once it closes).</summary>
    public bool IsAcceptingJobs { get; init; }

    /// <summary>Gets whether an operator drained the pool: queued jobs wait until it is resumed.</summary>
    public bool IsDraining { get; init; }

    /// <summary>Gets the jobs waiting in each queue (a cluster pool: in each silo's pool, all its queues together).</summary>
    public IReadOnlyList<int> QueueLengths { get; init; } = [];

    /// <summary>Gets the jobs running in workers.</summary>
    public int Running { get; init; }

    /// <summary>Gets the jobs (map items) answered with a result since the pool started.</summary>
    public long Succeeded { get; init; }

    /// <summary>Gets the jobs (map items) that failed since the pool started: an exception, a lost worker or a timeout.</summary>
    public long Failed { get; init; }

    /// <summary>Gets the jobs (map items) cancelled by their callers since the pool started.</summary>
    public long Cancelled { get; init; }

    /// <summary>Gets how many times a job was sent again after its worker died.</summary>
    public long Retried { get; init; }

    /// <summary>Gets the workers started to replace others.</summary>
    public long Restarts { get; init; }

    /// <summary>Gets why workers cannot start, while they keep failing (a crash loop); null otherwise.</summary>
    public string? CrashLoop { get; init; }

    /// <summary>Gets the workers, live and leaving (a cluster pool's, of every silo that answered, each naming its node).</summary>
    public IReadOnlyList<WorkerInspection> Workers { get; init; } = [];

    /// <summary>Gets the nodes that run the pool's workers: a cluster pool's silos; empty for a local pool.</summary>
    public IReadOnlyList<NodeInspection> Nodes { get; init; } = [];
}

/// <summary>A node of a cluster pool (a silo) in a <see cref="PoolInspection"/>.</summary>
public sealed record NodeInspection
{
    /// <summary>Gets the node's name (a silo's address), as <see cref="WorkerInspection.Node"/> names it.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the node's state: Active, Stopping (it shuts down and takes no new job) or Unreachable (it did not answer the inspection).</summary>
    public required string State { get; init; }

    /// <summary>Gets the calls this application has in flight on the node.</summary>
    public int InFlight { get; init; }

    /// <summary>Gets why the node could not be inspected; null when it answered.</summary>
    public string? Error { get; init; }

    /// <summary>Gets the node's own pool, as it answered (its workers are also in <see cref="PoolInspection.Workers"/>); null when it did not.</summary>
    public PoolInspection? Pool { get; init; }
}

/// <summary>A worker in a <see cref="PoolInspection"/>.</summary>
public sealed record WorkerInspection
{
    /// <summary>Gets the worker's id in its pool (1, 2, ...; a replacement gets a new one).</summary>
    public int WorkerId { get; init; }

    /// <summary>Gets the worker's process id, once launched.</summary>
    public int? ProcessId { get; init; }

    /// <summary>Gets the worker's state.</summary>
    public WorkerState State { get; init; }

    /// <summary>Gets the queue the worker takes jobs from.</summary>
    public int? Queue { get; init; }

    /// <summary>Gets when the worker became ready.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Gets the jobs the worker answered.</summary>
    public long Completed { get; init; }

    /// <summary>Gets the jobs the worker still takes before it is recycled; null when MaxTasksPerChild is 0.</summary>
    public int? JobsUntilRecycle { get; init; }

    /// <summary>Gets when the worker last answered a heartbeat (or sent any frame); null before it is ready.</summary>
    public DateTimeOffset? LastHeardFrom { get; init; }

    /// <summary>Gets why the worker that held this slot before it ended (its exit reason), when one did.</summary>
    public string? PredecessorExit { get; init; }

    /// <summary>Gets the worker's resident memory (working set) in bytes when inspected; null when it could not be read.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>Gets the processor time the worker used since it started, when inspected; null when it could not be read.</summary>
    public TimeSpan? ProcessorTime { get; init; }

    /// <summary>Gets the node that runs the worker: a cluster pool's silo; null in a local pool.</summary>
    public string? Node { get; init; }

    /// <summary>Gets the jobs running in the worker.</summary>
    public IReadOnlyList<RunningJob> Running { get; init; } = [];
}

/// <summary>A job running in a worker.</summary>
/// <param name="JobId">The job's id in its pool (what <see cref="IProcessPoolOperator.CancelJobAsync"/> takes; in a cluster pool, with the worker's node).</param>
/// <param name="JobName">The job's name.</param>
/// <param name="Items">How many items it carries (a map's chunk carries several).</param>
/// <param name="Attempt">Its attempt, 1 unless its worker died before and it was retried.</param>
/// <param name="RunningFor">How long it has run in this worker.</param>
public sealed record RunningJob(long JobId, string JobName, int Items, int Attempt, TimeSpan RunningFor);

/// <summary>A failed job, as the pool recorded it.</summary>
public sealed record JobFailureRecord
{
    /// <summary>Gets when the job failed.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Gets the job's id in its pool.</summary>
    public long JobId { get; init; }

    /// <summary>Gets the job's name.</summary>
    public required string JobName { get; init; }

    /// <summary>Gets the outcome: failed (the job threw), worker_lost, timed_out.</summary>
    public required string Outcome { get; init; }

    /// <summary>Gets the type of the exception (the remote type for a job that threw in its worker).</summary>
    public required string ExceptionType { get; init; }

    /// <summary>Gets the exception's message.</summary>
    public required string Message { get; init; }

    /// <summary>Gets the stack trace (the worker's, for a job that threw there).</summary>
    public string? StackTrace { get; init; }

    /// <summary>Gets the worker's process id, when the job reached one.</summary>
    public int? ProcessId { get; init; }

    /// <summary>Gets the last lines its worker wrote to standard error before the failure.</summary>
    public IReadOnlyList<string> StandardErrorTail { get; init; } = [];

    /// <summary>Gets on which attempt it failed (above 1: it had been retried after a worker's death).</summary>
    public int Attempt { get; init; }

    /// <summary>Gets the node whose pool ran it: a cluster pool's silo; null in a local pool.</summary>
    public string? Node { get; init; }
}

/// <summary>A line a worker wrote.</summary>
/// <param name="At">When the parent read it.</param>
/// <param name="Stream">stdout or stderr.</param>
/// <param name="Text">The line.</param>
public sealed record WorkerOutputLine(DateTimeOffset At, string Stream, string Text);
