using ProcessPools.Channels;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>A worker's exit code in words, per OS, with the OS as a parameter: what a Windows or macOS run would report.</summary>
public sealed class ExitCodesTests
{
    [Theory]
    [InlineData("Linux", 137, "exit code 137: signal 9 (SIGKILL, killed: kill -9, or the out-of-memory killer)")]
    [InlineData("MacOS", 137, "exit code 137: signal 9 (SIGKILL, killed: kill -9, or the out-of-memory killer)")]
    [InlineData("Linux", 134, "exit code 134: signal 6 (SIGABRT, aborted: the .NET runtime aborts on an unhandled exception, a stack overflow or Environment.FailFast)")]
    [InlineData("Linux", 139, "exit code 139: signal 11 (SIGSEGV, an invalid memory access (native code, or a stack overflow))")]
    [InlineData("Linux", 135, "exit code 135: signal 7 (SIGBUS, a bus error (a truncated memory-mapped file))")]
    [InlineData("MacOS", 138, "exit code 138: signal 10 (SIGBUS, a bus error (a truncated memory-mapped file))")]
    [InlineData("Linux", 138, "exit code 138: signal 10 (SIGUSR1)")]
    [InlineData("MacOS", 135, "exit code 135: signal 7")] // SIGEMT on macOS: no portable meaning, so a number only
    [InlineData("Linux", 3, "exit code 3")]
    [InlineData("Windows", unchecked((int)0xC0000005), "exit code 0xC0000005 (an access violation)")]
    [InlineData("Windows", unchecked((int)0xC00000FD), "exit code 0xC00000FD (a stack overflow)")]
    [InlineData("Windows", unchecked((int)0xE0434352), "exit code 0xE0434352 (an unhandled .NET exception)")]
    [InlineData("Windows", -1, "exit code -1 (terminated from outside: TerminateProcess, as Process.Kill does)")]
    [InlineData("Windows", 137, "exit code 137")] // no signals on Windows
    [InlineData("Windows", 1, "exit code 1")]     // taskkill's code, and any application's: not guessed at
    public void An_exit_code_is_described_by_the_OS_it_happened_on(string os, int exitCode, string expected) =>
        Assert.Equal(expected, ExitCodes.Describe(exitCode, Enum.Parse<HostOs>(os)));

    [Theory]
    [InlineData("Linux", 143, 15)]
    [InlineData("MacOS", 143, 15)]
    [InlineData("OtherUnix", 130, 2)]
    [InlineData("Windows", 143, null)]
    [InlineData("Linux", 128, null)]
    [InlineData("Linux", 1, null)]
    public void A_signal_is_read_only_from_a_Unix_exit_code(string os, int exitCode, int? signal) =>
        Assert.Equal(signal, ExitCodes.SignalOf(exitCode, Enum.Parse<HostOs>(os)));

    /// <summary>
    /// Regression: a job whose worker exited with code 3 failed with "... closed its channel (exit code 3) (exit code 3).",
    /// the pool's reason (the code in words) and the exception's own suffix each stating it.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(134)]
    public void A_lost_workers_message_states_its_exit_code_once(int exitCode)
    {
        var reason = $"closed its channel ({ExitCodes.Describe(exitCode, HostOs.Linux)})";

        var lost = new WorkerLostException("Jobs.ExitAsync", 4242, exitCode, reason, ["Unhandled exception."]);

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(lost.Message, "exit code"));
        Assert.StartsWith($"Job 'Jobs.ExitAsync' was lost: worker process 4242 {reason}.", lost.Message, StringComparison.Ordinal);
        Assert.EndsWith("Unhandled exception.", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lost_workers_message_adds_the_exit_code_where_the_reason_does_not_name_it()
    {
        var lost = new WorkerLostException(null, 4242, 137, "was killed", []);

        Assert.Equal(OperatingSystem.IsWindows() ? "Worker process 4242 was killed (exit code 137)." : "Worker process 4242 was killed (exit code 137, signal 9).", lost.Message);
    }
}
