using System.Globalization;
using ProcessPools.Channels;

namespace ProcessPools.Supervision;

/// <summary>
/// What a worker's exit code says, per OS, for <see cref="WorkerLostException"/> and the log: the signal that ended it
/// on Unix (.NET reports 128 + N), a known NTSTATUS on Windows. A code not in these tables is reported as a number,
/// never guessed at. Which exits the pool caused itself is not read from codes: the pool knows (<see cref="PoolEnded"/>).
/// </summary>
internal static class ExitCodes
{
    /// <summary>The signal that ended a process on a Unix, from the exit code .NET reports (128 + N); null on Windows or for an exit.</summary>
    public static int? SignalOf(int exitCode, HostOs os) => os != HostOs.Windows && exitCode is > 128 and < 160 ? exitCode - 128 : null;

    /// <summary>The exit code in words: "exit code 139: signal 11 (SIGSEGV, ...)", "exit code 0xC00000FD (a stack overflow)", or "exit code 3".</summary>
    public static string Describe(int exitCode, HostOs os)
    {
        if (os == HostOs.Windows)
        {
            var status = unchecked((uint)exitCode);
            return WindowsStatus(status) is { } words
                ? $"exit code 0x{status:X8} ({words})"
                : exitCode == -1 ? "exit code -1 (terminated from outside: TerminateProcess, as Process.Kill does)" : $"exit code {exitCode}";
        }

        return SignalOf(exitCode, os) is { } signal
            ? $"exit code {exitCode}: signal {signal}{(SignalName(signal, os) is { } name ? $" ({name})" : string.Empty)}"
            : $"exit code {exitCode.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>A signal's name and what usually sends it; null for a number with no portable meaning here.</summary>
    public static string? SignalName(int signal, HostOs os) => (signal, os) switch
    {
        (1, _) => "SIGHUP, its terminal closed",
        (2, _) => "SIGINT, interrupted (Ctrl+C)",
        (3, _) => "SIGQUIT",
        (4, _) => "SIGILL, an illegal instruction",
        (6, _) => "SIGABRT, aborted: the .NET runtime aborts on an unhandled exception, a stack overflow or Environment.FailFast",
        (8, _) => "SIGFPE, an arithmetic fault",
        (9, _) => "SIGKILL, killed: kill -9, or the out-of-memory killer",
        (11, _) => "SIGSEGV, an invalid memory access (native code, or a stack overflow)",
        (13, _) => "SIGPIPE, a write to a closed pipe",
        (14, _) => "SIGALRM",
        (15, _) => "SIGTERM, asked to terminate",
        (7, HostOs.Linux) or (10, HostOs.MacOS) => "SIGBUS, a bus error (a truncated memory-mapped file)",
        (10, HostOs.Linux) or (30, HostOs.MacOS) => "SIGUSR1",
        (12, HostOs.Linux) or (31, HostOs.MacOS) => "SIGUSR2",
        (31, HostOs.Linux) or (12, HostOs.MacOS) => "SIGSYS, a bad system call",
        _ => null,
    };

    /// <summary>The NTSTATUS and .NET codes a crashed Windows process exits with.</summary>
    private static string? WindowsStatus(uint status) => status switch
    {
        0xC0000005 => "an access violation",
        0xC00000FD => "a stack overflow",
        0xC0000409 => "a fail-fast: Environment.FailFast, or a stack buffer overrun",
        0xE0434352 => "an unhandled .NET exception",
        0xC0000017 => "out of memory",
        0xC000013A => "interrupted (Ctrl+C or Ctrl+Break)",
        0xC0000142 => "a DLL failed to initialize",
        _ => null,
    };
}

/// <summary>Why the pool itself ended a worker, when it did: a fact the pool records, not read from an exit code.</summary>
internal enum PoolEnded
{
    /// <summary>The pool did not end it: it exited, crashed, or something else killed it.</summary>
    No,

    /// <summary>It did not become ready within StartTimeout: the application's start is at fault.</summary>
    StartTimeout,

    /// <summary>Killed for a reason of the pool's (heartbeat, a job that ignored its cancellation, termination).</summary>
    Killed,

    /// <summary>Asked to leave (recycling, shutdown) and left.</summary>
    Asked,
}
