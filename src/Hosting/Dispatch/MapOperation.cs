using System.Collections.Concurrent;
using ProcessPools.Transport;

namespace ProcessPools.Dispatch;

/// <summary>
/// A running <c>Map</c> on this pool: a <see cref="MapProducer{TResult}"/> pulls the input lazily, at most a window of
/// items ahead of the consumer, and turns the items into jobs; their answers go to the map's reading side
/// (<see cref="MapAnswers{TResult}"/>, which a cluster's map shares), from which the consumer reads them in completion
/// order or in input order. This class keeps what only a local map has: the jobs it has in the pool's queues and
/// workers, cancelled with the map.
/// </summary>
internal sealed class MapOperation<TResult>
{
    /// <summary>The most items an automatic window grows to.</summary>
    internal const int AutomaticWindowLimit = 8192;

    /// <summary>The serialized bytes (arguments and results) an automatic window may hold when it grows.</summary>
    internal const long AutomaticWindowBytes = 4 << 20;

    private readonly ConcurrentDictionary<long, PendingJob> _active = new();
    private readonly bool _automaticWindow;
    private int _window;

    private MapOperation(PoolEngine pool, JobTarget target, int expectedCount, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        Pool = pool;
        Target = target;
        Timeout = timeout;
        MaxRetries = maxRetries;
        Answers = new MapAnswers<TResult>(window, expectedCount, cancellationToken);
        Chunks = new ChunkSizer(ChunkSizer.Allows(pool.Options, target, timeout, maxRetries), window, pool.Options.Processes);
        Answers.Cancellation.UnsafeRegister(static state => ((MapOperation<TResult>)state!).CancelActive(), this);
        _window = window;
        _automaticWindow = pool.Options.MapWindow == 0;
    }

    public PoolEngine Pool { get; }

    public JobTarget Target { get; }

    public TimeSpan? Timeout { get; }

    public int MaxRetries { get; }

    /// <summary>The map's reading side: its window, its answers and the caller's view of them.</summary>
    public MapAnswers<TResult> Answers { get; }

    public ChunkSizer Chunks { get; }

    public CancellationToken Cancellation => Answers.Cancellation;

    /// <summary>A map of argument sets: any job, any serializer, sync or async input.</summary>
    public static PoolResult<TResult> OverArgumentSets(
        PoolEngine pool, JobTarget target, IAsyncEnumerable<object?[]> source, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        var map = new MapOperation<TResult>(pool, target, expectedCount: 0, window, timeout, maxRetries, cancellationToken);
        MapProducer<TResult>.Start(map, token => new ArgumentSetsInput<TResult>(source.GetAsyncEnumerator(token)));
        return map.Answers.Result;
    }

    /// <summary>
    /// A map of a one-argument job over plain values, for a map whose items can travel in chunks: items stay
    /// typed from the input to the chunk's bytes (no argument array, no boxing per item).
    /// </summary>
    public static PoolResult<TResult> OverValues<TItem>(PoolEngine pool, JobTarget target, IEnumerable<TItem> items, int window, CancellationToken cancellationToken)
    {
        // An array, list or range: the awaited list is allocated once, not grown.
        var expected = items.TryGetNonEnumeratedCount(out var count) ? count : 0;
        var map = new MapOperation<TResult>(pool, target, expected, window, timeout: null, maxRetries: 0, cancellationToken);
        MapProducer<TResult>.Start(map, _ => new ValuesInput<TResult, TItem>(items.GetEnumerator()));
        return map.Answers.Result;
    }

    /// <summary>A job of the map is about to be queued: it is cancelled with the map.</summary>
    public void Track(PendingJob job) => _active[job.Id] = job;

    /// <summary>Learns how long the job's items took, for the size of the next chunks.</summary>
    public void Observe(PendingJob job)
    {
        if (Chunks.Enabled && job.DispatchedAt != 0)
        {
            Chunks.Observe(Pool.TimeProvider.GetElapsedTime(job.DispatchedAt).TotalMicroseconds / job.ItemCount);
        }
    }

    /// <summary>
    /// Learns how many serialized bytes a chunk's items took (arguments and results): an automatic window (no
    /// <see cref="ProcessPoolOptions.MapWindow"/>) doubles, up to <see cref="AutomaticWindowLimit"/> items, while it would
    /// hold no more than <see cref="AutomaticWindowBytes"/> of such items. Small, fast items then keep more chunks in
    /// flight (the pipe, the workers and the reader are never waiting on one another); large ones keep the window where
    /// it was. It never shrinks.
    /// </summary>
    public void ObserveSize(int items, long bytes)
    {
        var window = Volatile.Read(ref _window);
        var wider = _automaticWindow ? WidenedWindow(window, items, bytes) : window;
        if (wider > window && Interlocked.CompareExchange(ref _window, wider, window) == window)
        {
            Answers.WidenWindow(wider - window);
            Chunks.Widen(wider, Pool.Options.Processes);
        }
    }

    /// <summary>The automatic window after a chunk of <paramref name="items"/> took <paramref name="bytes"/>: doubled, or as it was.</summary>
    internal static int WidenedWindow(int window, int items, long bytes)
    {
        if (items <= 0 || window >= AutomaticWindowLimit)
        {
            return window;
        }

        var wider = Math.Min(AutomaticWindowLimit, window * 2);
        return (double)wider * bytes / items <= AutomaticWindowBytes ? wider : window;
    }

    /// <summary>Posts one item's answer.</summary>
    public void Post(PendingJob job, int index, TResult? value, Exception? error, bool last = true)
    {
        if (last)
        {
            _active.TryRemove(job.Id, out _);
        }

        if (error is null)
        {
            Answers.Answer(index, value!);
        }
        else
        {
            Answers.Fail(index, error);
        }
    }

    /// <summary>Posts the results of a chunk whose items all succeeded as one answer.</summary>
    public void Post(PendingJob job, int firstIndex, TResult[] values)
    {
        _active.TryRemove(job.Id, out _);
        Answers.Answer(firstIndex, values);
    }

    private void CancelActive()
    {
        foreach (var job in _active.Values)
        {
            Pool.OnJobCanceled(job, Answers.Cancellation);
        }
    }
}
