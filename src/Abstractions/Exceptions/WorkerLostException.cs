namespace ProcessPools;

/// <summary>
/// The worker process running a job died (or was killed) before the job answered.
/// The job may or may not have had side effects.
/// </summary>
public sealed class WorkerLostException : ProcessPoolException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="jobName">The job that was running, or <see langword="null"/> when the loss concerns no single job.</param>
    /// <param name="processId">The worker's process id.</param>
    /// <param name="exitCode">The worker's exit code, if it exited.</param>
    /// <param name="reason">What was observed: an exit, a broken channel, a kill. The message adds the exit code unless the reason already names it ("exit code ...").</param>
    /// <param name="standardErrorTail">The last lines the worker wrote to its standard error.</param>
    public WorkerLostException(string? jobName, int processId, int? exitCode, string reason, IReadOnlyList<string> standardErrorTail)
        : base(Format(jobName, processId, exitCode, reason, standardErrorTail))
    {
        JobName = jobName;
        ProcessId = processId;
        ExitCode = exitCode;
        Reason = reason;
        StandardErrorTail = standardErrorTail;
    }

    /// <summary>Gets the job that was running in the lost worker.</summary>
    public string? JobName { get; }

    /// <summary>Gets the lost worker's process id.</summary>
    public int ProcessId { get; }

    /// <summary>Gets the worker's exit code, when it exited; on Unix a process killed by signal N reports 128 + N.</summary>
    public int? ExitCode { get; }

    /// <summary>Gets the signal that killed the worker on Unix (exit code 128 + N), if any.</summary>
    public int? Signal => OperatingSystem.IsWindows() || ExitCode is not > 128 and < 160 ? null : ExitCode - 128;

    /// <summary>Gets what the pool observed.</summary>
    public string Reason { get; }

    /// <summary>Gets the last lines of the worker's standard error, oldest first.</summary>
    public IReadOnlyList<string> StandardErrorTail { get; }

    private static string Format(string? jobName, int processId, int? exitCode, string reason, IReadOnlyList<string> tail)
    {
        var subject = jobName is null ? $"Worker process {processId}" : $"Job '{jobName}' was lost: worker process {processId}";
        // The pool's own reasons give the code in words ("closed its channel (exit code 134: signal 6 (SIGABRT, ...))"):
        // the message states it once, the reason's way where the reason has it.
        var exit = exitCode is { } code && !reason.Contains("exit code", StringComparison.Ordinal) ? $" (exit code {code}{(code is > 128 and < 160 && !OperatingSystem.IsWindows() ? $", signal {code - 128}" : string.Empty)})" : string.Empty;
        var stderr = tail.Count > 0 ? $"{Environment.NewLine}Last lines of its standard error:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}" : string.Empty;
        return $"{subject} {reason}{exit}.{stderr}";
    }
}
