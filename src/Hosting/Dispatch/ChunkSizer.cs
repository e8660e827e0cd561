namespace ProcessPools.Dispatch;

/// <summary>
/// How many of a map's items may share a job. 1 for slow items, and when each item needs its own timeout,
/// retries or progress; up to a share of the window for items that take microseconds, where the per-job
/// cost (a frame each way, a dispatch) would otherwise dominate. Doubles while items take under 200 us
/// each, halves when they take over 2 ms.
/// </summary>
internal sealed class ChunkSizer
{
    private const double GrowBelowMicroseconds = 200;
    private const double ShrinkAboveMicroseconds = 2_000;
    private const int LargestChunk = 256;

    private readonly int _max;
    private readonly double _growBelow;
    private readonly double _shrinkAbove;
    private int _size = 1;

    /// <param name="enabled">Whether items may share jobs at all.</param>
    /// <param name="window">The map's window; a chunk takes at most a quarter of it per process.</param>
    /// <param name="processes">The pool's processes.</param>
    public ChunkSizer(bool enabled, int window, int processes)
        : this(enabled, Math.Clamp(window / (4 * processes), 1, LargestChunk), GrowBelowMicroseconds, ShrinkAboveMicroseconds)
    {
    }

    /// <summary>A sizer with its own bounds, for jobs whose per-job cost differs from a local worker's (a cluster's call).</summary>
    /// <param name="enabled">Whether items may share jobs at all.</param>
    /// <param name="largest">The most items a job may carry.</param>
    /// <param name="growBelowMicroseconds">Chunks double while items take less than this each, from dispatch to answer.</param>
    /// <param name="shrinkAboveMicroseconds">Chunks halve while items take more than this each.</param>
    public ChunkSizer(bool enabled, int largest, double growBelowMicroseconds, double shrinkAboveMicroseconds)
    {
        Enabled = enabled;
        _max = largest;
        _growBelow = growBelowMicroseconds;
        _shrinkAbove = shrinkAboveMicroseconds;
    }

    public bool Enabled { get; }

    /// <summary>The most items the next job may carry.</summary>
    public int Limit => Enabled ? Volatile.Read(ref _size) : 1;

    /// <summary>Whether a map of this job with these settings may send its items in chunks: a chunk shares one timeout, one retry and one slot, and MaxTasksPerChild counts jobs.</summary>
    public static bool Allows(ProcessPoolOptions options, JobTarget target, TimeSpan? timeout, int maxRetries) =>
        timeout is null && maxRetries == 0 && options.MaxTasksPerChild == 0 && target.ProgressType is null;

    /// <summary>Learns from a job that answered: how long each of its items took, on average, from dispatch to answer.</summary>
    public void Observe(double perItemMicroseconds)
    {
        if (!Enabled)
        {
            return;
        }

        var size = Volatile.Read(ref _size);
        if (perItemMicroseconds < _growBelow && size < _max)
        {
            Volatile.Write(ref _size, Math.Min(_max, size * 2));
        }
        else if (perItemMicroseconds > _shrinkAbove && size > 1)
        {
            Volatile.Write(ref _size, size / 2);
        }
    }
}
