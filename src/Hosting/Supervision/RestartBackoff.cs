namespace ProcessPools.Supervision;

/// <summary>
/// How long a slot waits before it tries again to start a worker after failed starts in a row: 100 ms,
/// doubling, at most 10 s; and when failures in a row, with no worker running, count as a crash loop.
/// </summary>
internal static class RestartBackoff
{
    /// <summary>How many replacement starts in a row may fail, with no worker running, before queued jobs are failed.</summary>
    public const int CrashLoopThreshold = 3;

    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(10);

    /// <summary>The wait after <paramref name="failures"/> failed starts in a row (1 or more).</summary>
    public static TimeSpan DelayAfter(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var doubled = First * Math.Pow(2, Math.Min(failures - 1, 10));
        return doubled < Longest ? doubled : Longest;
    }
}
