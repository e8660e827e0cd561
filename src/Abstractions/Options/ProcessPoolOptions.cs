using System.ComponentModel.DataAnnotations;

namespace ProcessPools;

/// <summary>
/// Settings of a process pool, bindable from configuration (the <c>"ProcessPool"</c> section by convention).
/// The names follow aiomultiprocess's <c>Pool</c>: <c>processes</c>, <c>childconcurrency</c>,
/// <c>queuecount</c>, <c>maxtasksperchild</c>, <c>scheduler</c>.
/// </summary>
public sealed class ProcessPoolOptions
{
    /// <summary>Gets or sets how many worker processes run.</summary>
    /// <value>The number of processors of this machine.</value>
    [Range(1, 1024)]
    public int Processes { get; set; } = Environment.ProcessorCount;

    /// <summary>Gets or sets how many jobs one worker process runs at once.</summary>
    /// <value>16. The pool's total concurrency is <see cref="Processes"/> x <see cref="ChildConcurrency"/>.</value>
    [Range(1, 100_000)]
    public int ChildConcurrency { get; set; } = 16;

    /// <summary>Gets or sets how many job queues there are; each worker pulls from one (worker <c>i</c> from queue <c>i % QueueCount</c>).</summary>
    /// <value>1: every worker pulls from one shared queue. At most <see cref="Processes"/>.</value>
    [Range(1, 1024)]
    public int QueueCount { get; set; } = 1;

    /// <summary>
    /// Gets or sets how many workers are started ahead and kept ready, to take the place of a worker that
    /// retires (<see cref="MaxTasksPerChild"/>) or dies the moment it leaves, instead of after a start-up.
    /// Each costs an idle process.
    /// </summary>
    /// <value>0.</value>
    [Range(0, 64)]
    public int SpareWorkers { get; set; }

    /// <summary>Gets or sets how many jobs a worker process runs before it is replaced by a fresh one.</summary>
    /// <value>0: never recycle. Exact: no worker ever receives more jobs than this.</value>
    [Range(0, int.MaxValue)]
    public int MaxTasksPerChild { get; set; }

    /// <summary>Gets or sets the built-in scheduler that places jobs on queues.</summary>
    /// <value><see cref="SchedulerKind.RoundRobin"/>, as aiomultiprocess does. Irrelevant with one queue.</value>
    [EnumDataType(typeof(SchedulerKind))]
    public SchedulerKind Scheduler { get; set; } = SchedulerKind.RoundRobin;

    /// <summary>Gets or sets a factory for a scheduler of your own; when set, it replaces <see cref="Scheduler"/>.</summary>
    /// <value><see langword="null"/>.</value>
    public Func<IScheduler>? SchedulerFactory { get; set; }

    /// <summary>
    /// Gets or sets how many items a <c>Map</c> may take from its input and not yet hand to its consumer;
    /// it bounds the memory of a map over a large or endless input.
    /// </summary>
    /// <value>
    /// 0: automatic. It starts at twice the pool's total concurrency (at least 1024) and doubles as a map's chunks come
    /// back, up to 8192 items, while that many items would take at most 4 MiB serialized (arguments and results).
    /// </value>
    [Range(0, int.MaxValue)]
    public int MapWindow { get; set; }

    /// <summary>
    /// Gets or sets how long a job may take, from the call until its answer, before the caller gets a
    /// <see cref="TimeoutException"/>. The job is then removed from its queue, or cancelled in its worker
    /// (and the worker killed when the job ignores the cancellation for <see cref="CancellationGracePeriod"/>).
    /// A call can set its own with <c>pool.WithJobOptions(...)</c>.
    /// </summary>
    /// <value><see langword="null"/>: no timeout.</value>
    public TimeSpan? JobTimeout { get; set; }

    /// <summary>
    /// Gets or sets how long a running job may keep running after it was cancelled (by its caller or a
    /// timeout) before its worker process is killed and replaced; the worker's other jobs then follow the
    /// rule for a lost worker (<see cref="MaxRetries"/>).
    /// </summary>
    /// <value>5 seconds.</value>
    public TimeSpan CancellationGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how many times a job whose worker died is queued again before it fails with a
    /// <see cref="WorkerLostException"/>. Only for jobs that are safe to run twice. A call can set its own
    /// with <c>pool.WithJobOptions(...)</c>.
    /// </summary>
    /// <value>0: a lost job fails at once.</value>
    [Range(0, 100)]
    public int MaxRetries { get; set; }

    /// <summary>
    /// Gets or sets how many jobs may wait in the queues; when they are full, a call waits (asynchronously)
    /// for room before its job is queued, and a <c>Map</c> stops pulling its input.
    /// </summary>
    /// <value>0: no limit.</value>
    [Range(0, int.MaxValue)]
    public int MaxQueuedJobs { get; set; }

    /// <summary>Gets or sets how often the parent checks that each worker answers.</summary>
    /// <value>5 seconds: an idle pool wakes its workers no more often than that. At least 100 ms: a busy or paused
    /// machine delays pongs by tens of milliseconds, and a shorter beat would kill healthy workers.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a worker may stay silent (no heartbeat answer, no frame) before it is declared
    /// dead, killed and replaced; a worker also exits when its parent has been silent this long.
    /// </summary>
    /// <value>20 seconds; at least 1 second.</value>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets how worker processes are started.</summary>
    /// <value><see cref="WorkerLaunchMode.Auto"/>: the worker assembly where it can run, the application itself otherwise.</value>
    [EnumDataType(typeof(WorkerLaunchMode))]
    public WorkerLaunchMode LaunchMode { get; set; } = WorkerLaunchMode.Auto;

    /// <summary>Gets or sets how long a worker may take from launch until it is ready for jobs.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long each new worker waits for a debugger to attach before it builds its host: for debugging a
    /// job in development. The pool logs each waiting worker's pid (attach to it: Visual Studio's Debug &gt; Attach to
    /// Process, VS Code's ".NET: Attach" configuration, Rider's Run &gt; Attach to Process). While it is set, a worker's
    /// start may take this much longer than <see cref="StartTimeout"/>, and a worker is not killed for being silent (a
    /// breakpoint stops it). Never set it in production.
    /// </summary>
    /// <value><see langword="null"/>: workers do not wait.</value>
    public TimeSpan? WaitForDebugger { get; set; }

    /// <summary>Gets or sets how long a graceful close waits for queued and running jobs before it kills the workers.</summary>
    /// <value>30 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the largest frame, in bytes, either side accepts on a worker's channel (serialized arguments or result).</summary>
    /// <value>64 MiB.</value>
    [Range(1024, int.MaxValue)]
    public int MaxMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the size, in bytes, from which a message (a job's serialized arguments, a result, a chunk of a map)
    /// travels through shared memory instead of the worker's pipe: written once into a segment that the sending side
    /// keeps and reuses, read in place by the other side. On Linux the segments are files of <c>/dev/shm</c> (memory),
    /// on Windows named sections, on macOS files of the user's temporary directory; each side keeps at most two free
    /// segments per worker, sized to the largest messages, and a worker's segments are deleted when it exits or dies
    /// (those of a parent that was killed, by the next pool that starts in the same pid namespace).
    /// <see cref="MaxMessageSize"/> still applies. Where a segment cannot be made (the memory file system is full), the
    /// message goes through the pipe and the pool logs <c>SharedMemoryUnavailable</c> once. Below about 1 MiB a segment
    /// costs more than the pipe: 1 MiB (<c>1 &lt;&lt; 20</c>) is a good threshold.
    /// </summary>
    /// <value><see langword="null"/>: every message goes through the pipe. Between 4 KiB and <see cref="MaxMessageSize"/>.</value>
    public int? SharedMemoryThreshold { get; set; }

    /// <summary>Gets or sets the serializer for arguments and results.</summary>
    /// <value>A <see cref="JsonJobSerializer"/>. The worker creates its own instance of the same type, which must have a public parameterless constructor.</value>
    public IJobSerializer Serializer { get; set; } = new JsonJobSerializer();

    /// <summary>Gets or sets the content root of the worker's host, where it reads appsettings.json.</summary>
    /// <value><see langword="null"/>: the parent's content root (its current directory when there is no host).</value>
    public string? ContentRootPath { get; set; }

    /// <summary>Gets or sets the environment name of the worker's host.</summary>
    /// <value><see langword="null"/>: the parent's environment name.</value>
    public string? EnvironmentName { get; set; }

    /// <summary>Gets the environment variables set for every worker process, on top of the parent's.</summary>
    public IDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
