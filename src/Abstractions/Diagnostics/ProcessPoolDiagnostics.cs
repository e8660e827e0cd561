namespace ProcessPools;

/// <summary>
/// The names ProcessPool's traces, metrics and tags go by, for OpenTelemetry registration
/// (<c>AddSource(ProcessPoolDiagnostics.ActivitySourceName)</c>, <c>AddMeter(ProcessPoolDiagnostics.MeterName)</c>,
/// or <c>AddProcessPoolInstrumentation()</c>) and for dashboards.
/// </summary>
public static class ProcessPoolDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of the parent's job spans and the workers' execution spans.</summary>
    public const string ActivitySourceName = "ProcessPool";

    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the pool's instruments.</summary>
    public const string MeterName = "ProcessPool";

    /// <summary>The parent's span of a job, from the call to the answer (kind <c>Client</c>).</summary>
    public const string JobActivityName = "processpool.job";

    /// <summary>How messages and logs name the default pool (registered under the empty name, which the <see cref="Tags.Pool"/> tag keeps).</summary>
    public const string DefaultPoolName = "default";

    /// <summary>The worker's span of a job's execution, a child of the parent's job span (kind <c>Server</c>).</summary>
    public const string ExecuteActivityName = "processpool.job.execute";

    /// <summary>Metric instrument names; durations are in seconds.</summary>
    public static class Instruments
    {
        /// <summary>Counter of jobs accepted by the pool.</summary>
        public const string JobsSubmitted = "processpool.job.submitted";

        /// <summary>Counter of jobs answered, tagged with <see cref="Tags.Outcome"/>.</summary>
        public const string JobsCompleted = "processpool.job.completed";

        /// <summary>Histogram of the time from a job's dispatch to a worker until its answer, in seconds, tagged with <see cref="Tags.Outcome"/>.</summary>
        public const string JobDuration = "processpool.job.duration";

        /// <summary>Histogram of the time a job waited in its queue before a worker took it, in seconds.</summary>
        public const string QueueWait = "processpool.job.queue_wait";

        /// <summary>Up-down counter of the jobs waiting in the queues.</summary>
        public const string JobsQueued = "processpool.job.queued";

        /// <summary>Up-down counter of the jobs running in workers.</summary>
        public const string JobsInFlight = "processpool.job.in_flight";

        /// <summary>Up-down counter of the workers ready for jobs.</summary>
        public const string WorkersLive = "processpool.worker.live";

        /// <summary>Counter of worker processes that started and became ready.</summary>
        public const string WorkersStarted = "processpool.worker.started";

        /// <summary>Counter of worker processes that exited, tagged with <see cref="Tags.ExitReason"/>.</summary>
        public const string WorkersExited = "processpool.worker.exited";

        /// <summary>Counter of jobs (map items) a cluster pool's front end had answered by a silo, tagged with <see cref="Tags.Silo"/> and <see cref="Tags.Outcome"/>.</summary>
        public const string ClusterJobsCompleted = "processpool.cluster.job.completed";

        /// <summary>Histogram of the time from sending a job or a chunk of a map to a silo until its answer, in seconds, tagged with <see cref="Tags.Silo"/>.</summary>
        public const string ClusterCallDuration = "processpool.cluster.call.duration";

        /// <summary>Up-down counter of the calls (jobs and chunks of maps) a cluster pool's front end has in flight on each silo, tagged with <see cref="Tags.Silo"/>.</summary>
        public const string ClusterCallsInFlight = "processpool.cluster.job.in_flight";

        /// <summary>Up-down counter of the silos that run the execution grain, as a cluster pool's front end knows them.</summary>
        public const string ClusterSilosLive = "processpool.cluster.silo.live";

        /// <summary>Counter of calls a cluster pool's front end sent again because they never reached a silo's pool (no gateway, a placement that failed, a silo that drains), tagged with <see cref="Tags.Silo"/>: not counted against a job's retries.</summary>
        public const string ClusterCallsResent = "processpool.cluster.call.resent";
    }

    /// <summary>The values of the <see cref="Tags.Outcome"/> tag, the same for local and cluster pools.</summary>
    public static class Outcomes
    {
        /// <summary>The job returned a result.</summary>
        public const string Success = "success";

        /// <summary>The job threw, or its pool could not run it.</summary>
        public const string Failed = "failed";

        /// <summary>The job was cancelled.</summary>
        public const string Cancelled = "cancelled";

        /// <summary>The job did not finish within its timeout.</summary>
        public const string TimedOut = "timed_out";

        /// <summary>The worker process running the job died before it answered.</summary>
        public const string WorkerLost = "worker_lost";

        /// <summary>The silo running the job (a cluster pool's) was lost before it answered; the job may have run there in part.</summary>
        public const string SiloLost = "silo_lost";
    }

    /// <summary>Tag (attribute) names on spans and metrics.</summary>
    public static class Tags
    {
        /// <summary>The pool's name (<c>""</c> for the default pool).</summary>
        public const string Pool = "processpool.pool.name";

        /// <summary>The job's name (<c>Type.Method</c>, or the job class).</summary>
        public const string Job = "processpool.job.name";

        /// <summary>The worker's number in its pool.</summary>
        public const string WorkerId = "processpool.worker.id";

        /// <summary>The worker's process id.</summary>
        public const string WorkerProcessId = "process.pid";

        /// <summary>How a job ended: one of <see cref="Outcomes"/>.</summary>
        public const string Outcome = "processpool.job.outcome";

        /// <summary>The silo (its address) that a cluster pool sent a job to.</summary>
        public const string Silo = "processpool.silo";

        /// <summary>Why a worker exited: <c>recycle</c>, <c>shutdown</c>, <c>crash</c> or <c>killed</c> (by the pool: a timeout's grace period, a lapsed heartbeat, termination).</summary>
        public const string ExitReason = "processpool.worker.exit_reason";
    }
}
