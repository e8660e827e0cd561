using ProcessPools.Worker;

namespace ProcessPools.Testing;

/// <summary>
/// The exceptions a real pool answers with when a job does not get a result, for <see cref="FakeProcessPool.FailNext"/>
/// and <see cref="FakeProcessPool.FailWhen"/>: the caller's error handling meets the same types and properties.
/// </summary>
public static class FakeFaults
{
    /// <summary>The worker running the job died (killed, crashed, out of memory) and the job had no retry left.</summary>
    /// <param name="jobName">The job's name.</param>
    /// <param name="exitCode">The worker's exit code (137: killed by SIGKILL, as the out-of-memory killer does).</param>
    /// <param name="standardErrorTail">The last lines the worker wrote to standard error.</param>
    public static WorkerLostException WorkerLost(string? jobName = null, int exitCode = 137, IReadOnlyList<string>? standardErrorTail = null) =>
        new(jobName, processId: 0, exitCode, "the worker process exited while running the job (simulated by ProcessPool.Testing)", standardErrorTail ?? []);

    /// <summary>The job did not finish within its timeout.</summary>
    /// <param name="jobName">The job's name.</param>
    /// <param name="timeout">The timeout it exceeded.</param>
    public static TimeoutException Timeout(string jobName, TimeSpan timeout) =>
        new($"Job '{jobName}' did not finish within {timeout} (its timeout); it was cancelled in its worker.");

    /// <summary>The job threw <paramref name="exception"/> in its worker: the caller gets it as a <see cref="RemoteJobException"/>, as from a real worker.</summary>
    /// <param name="jobName">The job's name.</param>
    /// <param name="exception">What the job threw (its type hierarchy, message and stack cross; the object does not).</param>
    public static RemoteJobException Remote(string jobName, Exception exception) => InProcessJobRunner.FaultOf(jobName, exception);
}
