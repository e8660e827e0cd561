using Microsoft.Extensions.Logging;

namespace ProcessPools.Telemetry;

/// <summary>
/// Every message the parent logs, source-generated, with stable ids and names: 1-9 a worker's life and its
/// jobs, 10-19 the pool's. An id is never reused for another message.
/// </summary>
internal static partial class Log
{
    /// <summary>The category of the pool's own messages.</summary>
    public const string Category = "ProcessPools.ProcessPool";

    [LoggerMessage(1, LogLevel.Debug, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) is ready.", EventName = "WorkerStarted")]
    public static partial void WorkerStarted(ILogger logger, string pool, int workerId, int processId);

    [LoggerMessage(2, LogLevel.Debug, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) exited as asked.", EventName = "WorkerExited")]
    public static partial void WorkerExited(ILogger logger, string pool, int workerId, int processId);

    [LoggerMessage(3, LogLevel.Warning, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) {Reason} (exit code {ExitCode}); {LostJobs} running jobs were lost.", EventName = "WorkerLost")]
    public static partial void WorkerLost(ILogger logger, string pool, int workerId, int processId, string reason, int? exitCode, int lostJobs);

    [LoggerMessage(4, LogLevel.Information, "Pool '{Pool}' worker {WorkerId}: {Line}", EventName = "WorkerOutput")]
    public static partial void WorkerOutput(ILogger logger, string pool, int workerId, string line);

    [LoggerMessage(5, LogLevel.Warning, "Pool '{Pool}' worker {WorkerId} (stderr): {Output}", EventName = "WorkerErrorOutput")]
    public static partial void WorkerErrorOutput(ILogger logger, string pool, int workerId, string output);

    [LoggerMessage(10, LogLevel.Information, "Process pool '{Pool}' started {Processes} workers x {ChildConcurrency} concurrent jobs.", EventName = "PoolStarted")]
    public static partial void PoolStarted(ILogger logger, string pool, int processes, int childConcurrency);

    [LoggerMessage(11, LogLevel.Error, "Process pool '{Pool}' could not replace the worker in slot {Slot} ({Failures} failures in a row); next try in {Delay}.", EventName = "ReplacementFailed")]
    public static partial void ReplacementFailed(ILogger logger, Exception exception, string pool, int slot, int failures, TimeSpan delay);

    [LoggerMessage(12, LogLevel.Warning, "Process pool '{Pool}' did not drain within {Timeout}; killing its workers.", EventName = "ShutdownTimedOut")]
    public static partial void ShutdownTimedOut(ILogger logger, string pool, TimeSpan timeout);

    [LoggerMessage(14, LogLevel.Critical, "Process pool '{Pool}' has no running worker and {Failures} replacement starts in a row failed; queued and new jobs fail until a worker starts.", EventName = "CrashLoop")]
    public static partial void CrashLoop(ILogger logger, Exception exception, string pool, int failures);

    [LoggerMessage(15, LogLevel.Information, "Process pool '{Pool}' has a running worker again.", EventName = "CrashLoopEnded")]
    public static partial void CrashLoopEnded(ILogger logger, string pool);

    [LoggerMessage(16, LogLevel.Warning, "Process pool '{Pool}' could not start a spare worker.", EventName = "SpareFailed")]
    public static partial void SpareFailed(ILogger logger, Exception exception, string pool);

    [LoggerMessage(17, LogLevel.Warning, "Pool '{Pool}': worker process {ProcessId} runs uncontained ({Reason}): processes its jobs start may outlive it. Logged once per pool; the pool works on.", EventName = "WorkerUncontained")]
    public static partial void WorkerUncontained(ILogger logger, string pool, int processId, string reason);

    [LoggerMessage(20, LogLevel.Warning, "Pool '{Pool}': a message of {Bytes} bytes went through the pipe instead of shared memory: no segment could be made in {Location} ({Reason}). Give it room (a container's /dev/shm: docker run --shm-size). Logged once per pool; messages go through the pipe meanwhile.", EventName = "SharedMemoryUnavailable")]
    public static partial void SharedMemoryUnavailable(ILogger logger, string pool, int bytes, string location, string reason);

    [LoggerMessage(18, LogLevel.Warning, "Pool '{Pool}': hot reload updated {Types} in this process, but its workers still run the code they were started with (a worker cannot receive hot reload changes). Restart the application to run the new code in workers: Ctrl+R in dotnet watch. Logged once per pool.", EventName = "HotReloadNotApplied")]
    public static partial void HotReloadNotApplied(ILogger logger, string pool, string types);

    [LoggerMessage(19, LogLevel.Warning, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) waits up to {Seconds} s for a debugger to attach (WaitForDebugger); it is not killed for silence while that option is set.", EventName = "WorkerWaitsForDebugger")]
    public static partial void WorkerWaitsForDebugger(ILogger logger, string pool, int workerId, int processId, double seconds);

    [LoggerMessage(6, LogLevel.Warning, "Pool '{Pool}': a progress report of job '{Job}' could not be delivered.", EventName = "ProgressFailed")]
    public static partial void ProgressFailed(ILogger logger, Exception exception, string pool, string job);

    [LoggerMessage(13, LogLevel.Information, "Process pool '{Pool}': job '{Job}' lost its worker and is queued again (attempt {Attempts}, {MaxRetries} retries allowed).", EventName = "JobRetried")]
    public static partial void JobRetried(ILogger logger, string pool, string job, int attempts, int maxRetries);
}
