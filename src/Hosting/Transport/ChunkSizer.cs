namespace ProcessPools.Transport;

/// <summary>
/// How many of a map's items may share one job (a chunk): 1 for slow items, and when each item needs its own timeout,
/// retries or progress; more for items that take microseconds, where the cost of each job (a frame each way, a
/// dispatch; a network hop for a transport) would otherwise dominate. The size doubles while items take less than a
/// bound each, and halves while they take more than another: a local pool grows below 200 us and shrinks above 2 ms,
/// a cluster (whose call costs a hundred microseconds or more) grows below 1 ms and shrinks above 5 ms.
/// </summary>
/// <remarks>Safe to use from several threads: a size read while another thread observes is the old one or the new one.</remarks>
public sealed class ChunkSizer
{
    private const double GrowBelowMicroseconds = 200;
    private const double ShrinkAboveMicroseconds = 2_000;
    private const int LargestChunk = 256;

    private int _max;
    private readonly double _growBelow;
    private readonly double _shrinkAbove;
    private int _size = 1;

    /// <param name="enabled">Whether items may share jobs at all.</param>
    /// <param name="window">The map's window; a chunk takes at most a quarter of it per process.</param>
    /// <param name="processes">The pool's processes.</param>
    internal ChunkSizer(bool enabled, int window, int processes)
        : this(enabled, ShareOf(window, processes), GrowBelowMicroseconds, ShrinkAboveMicroseconds)
    {
    }

    /// <summary>Creates a sizer that starts at one item per job.</summary>
    /// <param name="enabled">Whether items may share jobs at all; when <see langword="false"/>, <see cref="Limit"/> stays 1.</param>
    /// <param name="largest">The most items a job may carry (at least 1).</param>
    /// <param name="growBelowMicroseconds">Chunks double while items take less than this each, from sending to answer.</param>
    /// <param name="shrinkAboveMicroseconds">Chunks halve while items take more than this each; not below <paramref name="growBelowMicroseconds"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A bound is out of range.</exception>
    public ChunkSizer(bool enabled, int largest, double growBelowMicroseconds, double shrinkAboveMicroseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(largest, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(growBelowMicroseconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(shrinkAboveMicroseconds, growBelowMicroseconds);
        Enabled = enabled;
        _max = largest;
        _growBelow = growBelowMicroseconds;
        _shrinkAbove = shrinkAboveMicroseconds;
    }

    /// <summary>Gets whether items may share jobs at all.</summary>
    public bool Enabled { get; }

    /// <summary>Gets the most items the next job may carry.</summary>
    public int Limit => Enabled ? Volatile.Read(ref _size) : 1;

    /// <summary>Lets chunks grow up to a quarter of a window that was widened, per process (never past the largest chunk).</summary>
    internal void Widen(int window, int processes) => Volatile.Write(ref _max, Math.Max(_max, ShareOf(window, processes)));

    /// <summary>A chunk's share of a window: a quarter of it per process, between 1 and the largest chunk.</summary>
    private static int ShareOf(int window, int processes) => Math.Clamp(window / (4 * processes), 1, LargestChunk);

    /// <summary>Whether a map of this job with these settings may send its items in chunks: a chunk shares one timeout, one retry and one slot, and MaxTasksPerChild counts jobs.</summary>
    internal static bool Allows(ProcessPoolOptions options, JobTarget target, TimeSpan? timeout, int maxRetries) =>
        timeout is null && maxRetries == 0 && options.MaxTasksPerChild == 0 && target.ProgressType is null;

    /// <summary>Learns from a job that answered: how long each of its items took, on average, from sending to answer.</summary>
    /// <param name="perItemMicroseconds">The job's time from sending to answer, divided by its items.</param>
    public void Observe(double perItemMicroseconds)
    {
        if (!Enabled)
        {
            return;
        }

        var size = Volatile.Read(ref _size);
        var max = Volatile.Read(ref _max);
        if (perItemMicroseconds < _growBelow && size < max)
        {
            Volatile.Write(ref _size, Math.Min(max, size * 2));
        }
        else if (perItemMicroseconds > _shrinkAbove && size > 1)
        {
            Volatile.Write(ref _size, size / 2);
        }
    }
}
