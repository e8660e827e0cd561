using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace ProcessPools.Dispatch;

/// <summary>
/// A running <c>Map</c>, as its consumer sees it: a <see cref="MapProducer{TResult}"/> pulls the input lazily, at
/// most a window of items ahead of the consumer, and turns the items into jobs; the jobs' answers arrive on a
/// channel, from which the consumer reads them in completion order or puts them back in input order.
/// </summary>
internal sealed class MapOperation<TResult> : PoolResult<TResult>
{
    /// <summary>How many read answers may wait before their window room is given back while more answers are ready.</summary>
    private const int ReleaseBatch = 64;

    private readonly Channel<MapAnswer<TResult>> _answers = Channel.CreateUnbounded<MapAnswer<TResult>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, PendingJob> _active = new();
    private readonly CancellationTokenSource _cancellation;
    private readonly int _expectedCount;
    private int _consumed;
    private int _pulled;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _total = -1;

    private MapOperation(PoolEngine pool, JobTarget target, int expectedCount, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        Pool = pool;
        Target = target;
        Timeout = timeout;
        MaxRetries = maxRetries;
        _expectedCount = expectedCount;
        Window = new ItemWindow(window);
        Chunks = new ChunkSizer(ChunkSizer.Allows(pool.Options, target, timeout, maxRetries), window, pool.Options.Processes);
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancellation.Token.UnsafeRegister(static state => ((MapOperation<TResult>)state!).CancelActive(), this);
    }

    public PoolEngine Pool { get; }

    public JobTarget Target { get; }

    public TimeSpan? Timeout { get; }

    public int MaxRetries { get; }

    public ItemWindow Window { get; }

    public ChunkSizer Chunks { get; }

    public CancellationToken Cancellation => _cancellation.Token;

    /// <summary>A map of argument sets: any job, any serializer, sync or async input.</summary>
    public static MapOperation<TResult> OverArgumentSets(
        PoolEngine pool, JobTarget target, IAsyncEnumerable<object?[]> source, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        var map = new MapOperation<TResult>(pool, target, expectedCount: 0, window, timeout, maxRetries, cancellationToken);
        MapProducer<TResult>.Start(map, token => new ArgumentSetsInput<TResult>(source.GetAsyncEnumerator(token)));
        return map;
    }

    /// <summary>
    /// A map of a one-argument job over plain values, for a map whose items can travel in chunks: items stay
    /// typed from the input to the chunk's bytes (no argument array, no boxing per item).
    /// </summary>
    public static MapOperation<TResult> OverValues<TItem>(PoolEngine pool, JobTarget target, IEnumerable<TItem> items, int window, CancellationToken cancellationToken)
    {
        // An array, list or range: the awaited list is allocated once, not grown.
        var expected = items.TryGetNonEnumeratedCount(out var count) ? count : 0;
        var map = new MapOperation<TResult>(pool, target, expected, window, timeout: null, maxRetries: 0, cancellationToken);
        MapProducer<TResult>.Start(map, _ => new ValuesInput<TResult, TItem>(items.GetEnumerator()));
        return map;
    }

    public override async Task<IReadOnlyList<TResult>> ToListAsync()
    {
        var results = new List<TResult>(_expectedCount);
        await foreach (var answer in ReadAsync(releaseOnRead: true, CancellationToken.None).ConfigureAwait(false))
        {
            var end = answer.Index + answer.Count;
            while (results.Count < end)
            {
                results.Add(default!);
            }

            for (var i = 0; i < answer.Count; i++)
            {
                results[answer.Index + i] = answer.ValueAt(i);
            }
        }

        return results;
    }

    public override MapProgress Progress
    {
        get
        {
            // Read the answers before the pulls: a pull counted after its answer would show as negative pending.
            var (succeeded, failed, cancelled) = (Volatile.Read(ref _succeeded), Volatile.Read(ref _failed), Volatile.Read(ref _cancelled));
            var total = Volatile.Read(ref _total);
            var pulled = Volatile.Read(ref _pulled);
            return new MapProgress
            {
                Succeeded = succeeded,
                Failed = failed,
                Cancelled = cancelled,
                Pending = Math.Max(0, pulled - succeeded - failed - cancelled),
                Total = total < 0 ? null : total,
            };
        }
    }

    public override async IAsyncEnumerable<(int Index, TResult Result)> AsCompleted()
    {
        await foreach (var answer in ReadAsync(releaseOnRead: true, CancellationToken.None).ConfigureAwait(false))
        {
            for (var i = 0; i < answer.Count; i++)
            {
                yield return (answer.Index + i, answer.ValueAt(i));
            }
        }
    }

    public override async IAsyncEnumerator<TResult> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        // Answers that came early wait here until every item before them has been yielded.
        var early = new Dictionary<int, MapAnswer<TResult>>();
        var next = 0;
        await foreach (var answer in ReadAsync(releaseOnRead: false, cancellationToken).ConfigureAwait(false))
        {
            if (answer.Index != next)
            {
                early.Add(answer.Index, answer);
                continue;
            }

            var ready = answer;
            while (true)
            {
                // Window room comes back once the consumer has taken the items: the input never runs further ahead.
                for (var i = 0; i < ready.Count; i++)
                {
                    yield return ready.ValueAt(i);
                }

                Window.Release(ready.Count);
                next += ready.Count;
                if (!early.Remove(next, out ready))
                {
                    break;
                }
            }
        }
    }

    /// <summary>The producer pulled <paramref name="count"/> more items.</summary>
    public void CountPulled(int count) => Interlocked.Add(ref _pulled, count);

    /// <summary>A job of the map is about to be queued: it is cancelled with the map.</summary>
    public void Track(PendingJob job) => _active[job.Id] = job;

    /// <summary>The input ended after <paramref name="count"/> items, or failed.</summary>
    public void PostEnd(int count, Exception? error)
    {
        if (error is null or ObjectDisposedException)
        {
            Volatile.Write(ref _total, count); // a closed pool still answers the items it took
        }

        _answers.Writer.TryWrite(new MapAnswer<TResult>(-1, default, error, count));
    }

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
        if (error is null)
        {
            Interlocked.Increment(ref _succeeded);
        }
        else if (error is OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelled);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }

        if (last)
        {
            _active.TryRemove(job.Id, out _);
        }

        _answers.Writer.TryWrite(new MapAnswer<TResult>(index, value, error, 0));
    }

    /// <summary>Posts the results of a chunk whose items all succeeded as one answer.</summary>
    public void Post(PendingJob job, int firstIndex, TResult[] values)
    {
        Interlocked.Add(ref _succeeded, values.Length);
        _active.TryRemove(job.Id, out _);
        _answers.Writer.TryWrite(new MapAnswer<TResult>(firstIndex, default, null, 0, values));
    }

    /// <summary>
    /// Yields each answer once (an item, or a run of consecutive items that all succeeded), in completion order;
    /// throws the first failure; cancels what is left when abandoned.
    /// </summary>
    private async IAsyncEnumerable<MapAnswer<TResult>> ReadAsync(bool releaseOnRead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _consumed, 1) != 0)
        {
            throw new InvalidOperationException("The results of a Map can be consumed once: await them, enumerate them, or enumerate AsCompleted().");
        }

        var received = 0;
        var total = -1;
        var unreleased = 0;
        Exception? afterTaken = null;
        try
        {
            while (total < 0 || received < total)
            {
                if (!_answers.Reader.TryRead(out var answer))
                {
                    // Caught up: give the window back before waiting. Released one by one, each item would wake
                    // the producer for a chunk of one (measured: the awaited map ran at half the streamed speed).
                    if (unreleased > 0)
                    {
                        Window.Release(unreleased);
                        unreleased = 0;
                    }

                    answer = await _answers.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }

                if (answer.Index < 0 && answer.Error is ObjectDisposedException closed)
                {
                    // The pool closed under the map: the items it took are still answered, then the map ends.
                    total = answer.Total;
                    afterTaken = closed;
                    continue;
                }

                if (answer.Error is not null)
                {
                    throw answer.Error;
                }

                if (answer.Index < 0)
                {
                    total = answer.Total;
                    continue;
                }

                received += answer.Count;
                yield return answer;

                // Room comes back once the consumer has taken the answer's items (it resumes us only then),
                // never before: the input stays within the window of what the consumer holds.
                if (releaseOnRead && (unreleased += answer.Count) >= ReleaseBatch)
                {
                    Window.Release(unreleased);
                    unreleased = 0;
                }
            }

            if (afterTaken is not null)
            {
                throw afterTaken;
            }
        }
        finally
        {
            if (total < 0 || received < total)
            {
                await _cancellation.CancelAsync().ConfigureAwait(false);
            }

            _cancellation.Dispose();
        }
    }

    private void CancelActive()
    {
        foreach (var job in _active.Values)
        {
            Pool.OnJobCanceled(job, _cancellation.Token);
        }
    }
}
