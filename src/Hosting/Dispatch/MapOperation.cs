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
    private readonly ConcurrentDictionary<long, PendingJob> _active = new();

    private MapOperation(PoolEngine pool, JobTarget target, int expectedCount, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        Pool = pool;
        Target = target;
        Timeout = timeout;
        MaxRetries = maxRetries;
        Answers = new MapAnswers<TResult>(window, expectedCount, cancellationToken);
        Chunks = new ChunkSizer(ChunkSizer.Allows(pool.Options, target, timeout, maxRetries), window, pool.Options.Processes);
        Answers.Cancellation.UnsafeRegister(static state => ((MapOperation<TResult>)state!).CancelActive(), this);
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
