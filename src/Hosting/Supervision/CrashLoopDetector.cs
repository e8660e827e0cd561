using ProcessPools.Channels;
namespace ProcessPools.Supervision;

/// <summary>
/// Tells a crash loop (the application's workers cannot start: the same start failure again and again) from
/// workers lost to something outside the application (killed by a signal while starting, as an operator or the
/// OOM killer does). Only the former fails queued jobs; the pool keeps trying either way.
/// </summary>
internal sealed class CrashLoopDetector
{
    private string? _lastKind;
    private int _sameInARow;

    /// <summary>
    /// What a failed start says about the application: its own setup error, a start that timed out, its exit code, or
    /// the exception; <see langword="null"/> when it says nothing: the pool ended the worker itself (known as a fact,
    /// whatever code the OS reports: -1 on Windows), or something else killed it: a signal on a Unix (an operator, the
    /// OOM killer), TerminateProcess with -1 on Windows (Process.Kill, Task Manager's "End task"). Other codes count,
    /// <c>taskkill /F</c>'s 1 included: an application exits with 1 too, and it is not guessed at.
    /// </summary>
    public static string? KindOf(string? setupFailure, int? exitCode, Exception exception, PoolEnded ended, HostOs os)
    {
        if (setupFailure is not null)
        {
            return $"setup failed: {setupFailure}";
        }

        switch (ended)
        {
            case PoolEnded.StartTimeout:
                return "did not become ready within StartTimeout";
            case PoolEnded.Killed or PoolEnded.Asked:
                return null;
        }

        if (exitCode is { } code && (ExitCodes.SignalOf(code, os) is not null || (os == HostOs.Windows && code == -1)))
        {
            return null; // killed by a signal, or on Windows terminated with -1 (Process.Kill's code): killed, not failed
        }

        return exitCode is { } exit ? ExitCodes.Describe(exit, os) : exception.GetType().FullName;
    }

    /// <summary>How many failures of the same kind came in a row, the last included.</summary>
    public int SameInARow => _sameInARow;

    /// <summary>Records a failed start; true once <see cref="RestartBackoff.CrashLoopThreshold"/> failures in a row were of the same kind.</summary>
    public bool Failed(string? kind)
    {
        if (kind is null)
        {
            Started(); // killed from outside: nothing learnt about the application's starts
            return false;
        }

        _sameInARow = string.Equals(kind, _lastKind, StringComparison.Ordinal) ? _sameInARow + 1 : 1;
        _lastKind = kind;
        return _sameInARow >= RestartBackoff.CrashLoopThreshold;
    }

    /// <summary>A start succeeded.</summary>
    public void Started()
    {
        _lastKind = null;
        _sameInARow = 0;
    }
}
