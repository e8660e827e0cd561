using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace ProcessPools.Dispatch;

/// <summary>
/// A running <c>Map</c>: a producer pulls the input lazily, at most a window of items ahead of the
/// consumer, and turns each into a job; the jobs' answers arrive on a channel, from which the consumer
/// reads them in completion order or puts them back in input order.
/// </summary>
internal sealed class MapOperation<TResult> : PoolResult<TResult>
{
    private readonly PoolEngine _pool;
    private readonly JobTarget _target;
    private readonly ItemWindow _window;
    private readonly CancellationTokenSource _cancellation;
    private readonly Channel<Answer> _answers = Channel.CreateUnbounded<Answer>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, PendingJob> _active = new();
    private readonly TimeSpan? _timeout;
    private readonly int _maxRetries;
    private readonly bool _chunking;
    private readonly int _maxChunk;
    private readonly int _expectedCount;
    private int _consumed;
    private int _pulled;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _total = -1;
    private int _chunkSize = 1;

    public MapOperation(
        PoolEngine pool, JobTarget target, IAsyncEnumerable<object?[]> source, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
        : this(pool, target, token => new ArgumentSetsInput(source.GetAsyncEnumerator(token)), expectedCount: 0, window, timeout, maxRetries, cancellationToken)
    {
    }

    private MapOperation(
        PoolEngine pool, JobTarget target, Func<CancellationToken, Input> open, int expectedCount, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        _expectedCount = expectedCount;
        _pool = pool;
        _target = target;
        _timeout = timeout;
        _maxRetries = maxRetries;
        _window = new ItemWindow(window);
        // Chunks share a timeout, a retry and a slot; MaxTasksPerChild counts jobs: each of those needs an item per job.
        _chunking = Chunks(pool, target, timeout, maxRetries);
        _maxChunk = Math.Clamp(window / (4 * pool.Options.Processes), 1, 256);
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancellation.Token.UnsafeRegister(static state => ((MapOperation<TResult>)state!).CancelActive(), this);
        _ = Task.Run(() => ProduceAsync(open), CancellationToken.None);
    }

    /// <summary>
    /// A map of a one-argument job over plain values, for a pool whose items can travel in chunks: items stay
    /// typed from the input to the chunk's bytes (no argument array, no boxing per item).
    /// </summary>
    public static MapOperation<TResult> OverValues<TItem>(PoolEngine pool, JobTarget target, IEnumerable<TItem> items, int window, CancellationToken cancellationToken) =>
        new(
            pool,
            target,
            _ => new ValuesInput<TItem>(items.GetEnumerator()),
            expectedCount: items.TryGetNonEnumeratedCount(out var count) ? count : 0, // an array, list or range: the awaited list is allocated once, not grown
            window,
            timeout: null,
            maxRetries: 0,
            cancellationToken);

    /// <summary>Whether a map of this job with these settings sends its quick items in chunks.</summary>
    public static bool Chunks(PoolEngine pool, JobTarget target, TimeSpan? timeout, int maxRetries) =>
        timeout is null && maxRetries == 0 && pool.Options.MaxTasksPerChild == 0 && target.ProgressType is null;

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
            return new MapProgress(succeeded, failed, cancelled, Math.Max(0, pulled - succeeded - failed - cancelled), total < 0 ? null : total);
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
        var early = new Dictionary<int, Answer>();
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

                _window.Release(ready.Count);
                next += ready.Count;
                if (!early.Remove(next, out ready))
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Yields each answer once (an item, or a run of consecutive items that all succeeded), in completion order;
    /// throws the first failure; cancels what is left when abandoned.
    /// </summary>
    private async IAsyncEnumerable<Answer> ReadAsync(bool releaseOnRead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _consumed, 1) != 0)
        {
            throw new InvalidOperationException("The results of a Map can be consumed once: await them, enumerate them, or enumerate AsCompleted().");
        }

        var received = 0;
        var total = -1;
        var unreleased = 0;
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
                        _window.Release(unreleased);
                        unreleased = 0;
                    }

                    answer = await _answers.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
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
                if (releaseOnRead && (unreleased += answer.Count) >= ReleaseBatch)
                {
                    _window.Release(unreleased);
                    unreleased = 0;
                }

                yield return answer;
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

    private async Task ProduceAsync(Func<CancellationToken, Input> open)
    {
        var token = _cancellation.Token;
        var index = 0;
        try
        {
            // Room in the window first, then the next item: the input is never pulled ahead of the window.
            var items = open(token);
            await using var itemsScope = items.ConfigureAwait(false);
            Task<bool>? pendingMove = null; // an item whose window room is taken and whose input is still coming
            var inputEnded = false;
            while (!inputEnded)
            {
                bool more;
                if (pendingMove is not null)
                {
                    more = await pendingMove.ConfigureAwait(false);
                    pendingMove = null;
                }
                else
                {
                    await _window.TakeOneAsync(token).ConfigureAwait(false);
                    more = await items.MoveNextAsync().ConfigureAwait(false);
                }

                if (!more)
                {
                    break;
                }

                var firstIndex = index++;
                items.Keep();

                // Fast items travel in chunks: more of what the input has ready now, as far as the window allows.
                var limit = ChunkLimit;
                var room = limit > 1 ? _window.TryTake(limit - 1) : 0;
                var used = 0;
                while (used < room)
                {
                    used++; // this room is the next item's, even one still on its way
#pragma warning disable CA2012 // Awaited once: below when it completed at once, as a task on the next round otherwise.
                    var next = items.MoveNextAsync();
                    if (!next.IsCompletedSuccessfully)
                    {
                        pendingMove = next.AsTask();
                        break;
                    }

                    if (!next.Result)
#pragma warning restore CA2012
                    {
                        inputEnded = true;
                        break;
                    }

                    index++;
                    items.Keep();
                }

                _window.Release(room - used);
                Interlocked.Add(ref _pulled, items.Kept);

                var job = items.TakeJob(this, firstIndex);
                _active[job.Id] = job;
                if (token.IsCancellationRequested)
                {
                    job.Cancel(token);
                    break;
                }

                _pool.Accept(job);
                await _pool.EnqueueAsync(job, token).ConfigureAwait(false);
            }

            token.ThrowIfCancellationRequested();
            Volatile.Write(ref _total, index);
            _answers.Writer.TryWrite(new Answer(-1, default, null, index));
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException && token.IsCancellationRequested)
        {
            _answers.Writer.TryWrite(new Answer(-1, default, new OperationCanceledException("The map was cancelled.", exception, token), index));
        }
        catch (Exception exception)
        {
            // A failing input or an argument that cannot be sent ends the map with that exception.
            _answers.Writer.TryWrite(new Answer(-1, default, exception, index));
        }
    }

    private void CancelActive()
    {
        foreach (var job in _active.Values)
        {
            _pool.OnJobCanceled(job, _cancellation.Token);
        }
    }

    /// <summary>How many read answers may wait before their window room is given back while more answers are ready.</summary>
    private const int ReleaseBatch = 64;

    /// <summary>
    /// How many items may share a job: 1 for slow items, and when each item needs its own timeout, retries
    /// or progress; up to a share of the window for items that take microseconds, where the per-job cost
    /// (a frame each way, a dispatch) would otherwise dominate.
    /// </summary>
    private int ChunkLimit => _chunking ? Volatile.Read(ref _chunkSize) : 1;

    /// <summary>Grows the chunk size while items take under 200 us each, shrinks it when they take over 2 ms.</summary>
    private void Adapt(PendingJob job)
    {
        if (!_chunking || job.DispatchedAt == 0)
        {
            return;
        }

        var perItem = System.Diagnostics.Stopwatch.GetElapsedTime(job.DispatchedAt).TotalMicroseconds / job.ItemCount;
        var size = Volatile.Read(ref _chunkSize);
        if (perItem < 200 && size < _maxChunk)
        {
            Volatile.Write(ref _chunkSize, Math.Min(_maxChunk, size * 2));
        }
        else if (perItem > 2_000 && size > 1)
        {
            Volatile.Write(ref _chunkSize, size / 2);
        }
    }

    private void Post(PendingJob job, int index, TResult? value, Exception? error, bool last = true)
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

        _answers.Writer.TryWrite(new Answer(index, value, error, 0));
    }

    /// <summary>Posts the results of a chunk whose items all succeeded as one answer.</summary>
    private void Post(PendingJob job, int firstIndex, TResult[] values)
    {
        Interlocked.Add(ref _succeeded, values.Length);
        _active.TryRemove(job.Id, out _);
        _answers.Writer.TryWrite(new Answer(firstIndex, default, null, 0, values));
    }

    /// <summary>
    /// One answer: an item's value or error, or with <paramref name="Values"/> the values of consecutive items from
    /// <paramref name="Index"/> on; an index of -1 marks the end of the input with the item count (or a failure of the input).
    /// </summary>
    private readonly record struct Answer(int Index, TResult? Value, Exception? Error, int Total, TResult[]? Values = null)
    {
        public int Count => Values?.Length ?? 1;

        /// <summary>The value of item <c>Index + offset</c>.</summary>
        public TResult ValueAt(int offset) => Values is { } values ? values[offset] : Value!;
    }

    /// <summary>The map's input: pulls items, and turns the ones it kept into the next job.</summary>
    private abstract class Input : IAsyncDisposable
    {
        public abstract int Kept { get; }

        public abstract ValueTask<bool> MoveNextAsync();

        /// <summary>The current item joins the next job.</summary>
        public abstract void Keep();

        /// <summary>A job of the kept items (one item, or a chunk of consecutive items from <paramref name="firstIndex"/>); keeps nothing after.</summary>
        public abstract PendingJob TakeJob(MapOperation<TResult> map, int firstIndex);

        public abstract ValueTask DisposeAsync();
    }

    /// <summary>An input that keeps items of type <typeparamref name="TKept"/> until they become a job.</summary>
    private abstract class Input<TKept> : Input
    {
        private readonly List<TKept> _kept = [];

        public override int Kept => _kept.Count;

        public override void Keep() => _kept.Add(Current);

        public override PendingJob TakeJob(MapOperation<TResult> map, int firstIndex)
        {
            var count = _kept.Count;
            PendingJob job = count == 1
                ? map._pool.CreateJob(map._target, ArgumentsOf(_kept[0]), (id, buffer, length) => new ItemJob(map, firstIndex, id, map._target, buffer, length)
                {
                    Timeout = map._timeout,
                    MaxRetries = map._maxRetries,
                })
                : CreateChunkJob(map, _kept, (id, buffer, length) => new ChunkJob(map, firstIndex, count, id, map._target, buffer, length));
            _kept.Clear();
            return job;
        }

        protected abstract TKept Current { get; }

        /// <summary>A lone item's arguments, for a job of its own.</summary>
        protected abstract object?[] ArgumentsOf(TKept item);

        protected abstract ChunkJob CreateChunkJob(MapOperation<TResult> map, List<TKept> items, Func<long, byte[], int, ChunkJob> create);
    }

    /// <summary>Argument sets (any job, any serializer, sync or async input).</summary>
    private sealed class ArgumentSetsInput(IAsyncEnumerator<object?[]> items) : Input<object?[]>
    {
        public override ValueTask<bool> MoveNextAsync() => items.MoveNextAsync();

        public override ValueTask DisposeAsync() => items.DisposeAsync();

        protected override object?[] Current => items.Current;

        protected override object?[] ArgumentsOf(object?[] item) => item;

        protected override ChunkJob CreateChunkJob(MapOperation<TResult> map, List<object?[]> items, Func<long, byte[], int, ChunkJob> create) =>
            map._pool.CreateChunkJob(map._target, items, create);
    }

    /// <summary>Plain values of a one-argument job, kept typed until they are written into a chunk.</summary>
    private sealed class ValuesInput<TItem>(IEnumerator<TItem> items) : Input<TItem>
    {
        public override ValueTask<bool> MoveNextAsync() => new(items.MoveNext());

        public override ValueTask DisposeAsync()
        {
            items.Dispose();
            return ValueTask.CompletedTask;
        }

        protected override TItem Current => items.Current;

        protected override object?[] ArgumentsOf(TItem item) => [item];

        protected override ChunkJob CreateChunkJob(MapOperation<TResult> map, List<TItem> items, Func<long, byte[], int, ChunkJob> create) =>
            map._pool.CreateValueChunkJob(map._target, items, create);
    }

    private sealed class ItemJob(MapOperation<TResult> owner, int index, long id, JobTarget target, byte[] arguments, int length)
        : PendingJob(id, target, arguments, length)
    {
        public int Index { get; } = index;

        protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
        {
            var value = (TResult?)serializer.Deserialize(result, Target.ResultType);
            RecordEnd(null);
            owner.Adapt(this);
            owner.Post(this, Index, value, null);
        }

        protected override void OnFailed(Exception exception)
        {
            RecordEnd(exception);
            owner.Post(this, Index, default, exception);
        }

        protected override void OnCanceled(CancellationToken cancellationToken)
        {
            var canceled = new OperationCanceledException("The map was cancelled.", null, cancellationToken);
            RecordEnd(canceled);
            owner.Post(this, Index, default, canceled);
        }
    }

    /// <summary>Consecutive items of the map in one job; the worker runs them one after the other and answers each.</summary>
    private sealed class ChunkJob(MapOperation<TResult> owner, int firstIndex, int count, long id, JobTarget target, byte[] arguments, int length)
        : PendingJob(id, target, arguments, length)
    {
        public override Channels.FrameType InvokeFrame => Channels.FrameType.InvokeMany;

        public override int ItemCount => count;

        protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
        {
            // Everything is read before anything is posted: a chunk that cannot be read fails as a whole.
            var values = new TResult[count];
            Exception?[]? errors = null; // only when an item failed or was cancelled
            int succeeded = 0, failed = 0, cancelled = 0;
            var reader = new SequenceReader<byte>(result);
            var hasResult = Target.ResultType != typeof(void);
            var typed = hasResult && Target.ResultType == typeof(TResult) && serializer.GetType() == typeof(JsonJobSerializer) ? (JsonJobSerializer)serializer : null;
            for (var i = 0; i < count; i++)
            {
                if (!reader.TryRead(out var status) || !reader.TryReadLittleEndian(out int size) || reader.Remaining < size)
                {
                    throw new InvalidDataException($"The answers of a chunk of {count} items of job '{Target.Name}' are truncated.");
                }

                var blob = reader.UnreadSequence.Slice(0, size);
                reader.Advance(size);
                switch (status)
                {
                    case 0:
                        values[i] = typed is not null ? typed.DeserializeValue<TResult>(blob)
                            : hasResult ? (TResult)serializer.Deserialize(blob, Target.ResultType)! : default!;
                        succeeded++;
                        break;
                    case 1:
                        var json = new System.Text.Json.Utf8JsonReader(blob);
                        var error = System.Text.Json.JsonSerializer.Deserialize(ref json, Protocol.WireJsonContext.Default.RemoteError)
                            ?? throw new InvalidDataException("An empty fault in a chunk's answers.");
                        (errors ??= new Exception?[count])[i] = error.ToException(Target.Name);
                        failed++;
                        break;
                    default:
                        (errors ??= new Exception?[count])[i] = new OperationCanceledException("The job was cancelled in its worker process.");
                        cancelled++;
                        break;
                }
            }

            RecordEnd(succeeded, failed, cancelled);
            owner.Adapt(this);
            if (errors is null)
            {
                owner.Post(this, firstIndex, values);
                return;
            }

            for (var i = 0; i < count; i++)
            {
                owner.Post(this, firstIndex + i, values[i], errors[i], last: i == count - 1);
            }
        }

        protected override void OnFailed(Exception exception)
        {
            RecordEnd(exception);
            for (var i = 0; i < count; i++)
            {
                owner.Post(this, firstIndex + i, default, exception, last: i == count - 1);
            }
        }

        protected override void OnCanceled(CancellationToken cancellationToken)
        {
            var canceled = new OperationCanceledException("The map was cancelled.", null, cancellationToken);
            RecordEnd(canceled);
            for (var i = 0; i < count; i++)
            {
                owner.Post(this, firstIndex + i, default, canceled, last: i == count - 1);
            }
        }
    }
}
