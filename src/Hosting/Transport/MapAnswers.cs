using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace ProcessPools.Transport;

/// <summary>
/// The reading side of a map, for whoever produces its answers: a local pool's map, a cluster's, or another transport's.
/// The producer takes room in the window before it pulls an item from the input, counts what it pulled, and posts each
/// item's answer (alone, or a run of consecutive items) in any order; the consumer reads <see cref="Result"/> once, in
/// input order, in completion order, or as a list, with a <see cref="PoolResult{T}"/>'s semantics: the first failure
/// ends the reading, and a consumer that stops early cancels <see cref="Cancellation"/>, which the producer watches.
/// </summary>
/// <typeparam name="TResult">The items' result type.</typeparam>
/// <remarks>
/// Room comes back to the window once the consumer has taken the items it was taken for, in bulk (per answer read, or
/// per 64 items read while answers are ready), never per item: released one by one, each item would wake the producer
/// for a chunk of one, which measured here as half the speed of an awaited map.
/// </remarks>
public sealed class MapAnswers<TResult>
{
    /// <summary>How many read answers may wait before their window room is given back while more answers are ready.</summary>
    private const int ReleaseBatch = 64;

    private readonly Channel<MapAnswer<TResult>> _answers = Channel.CreateUnbounded<MapAnswer<TResult>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationToken _token; // kept: the source is disposed when the reading ends, producers may still look
    private readonly ItemWindow _window;
    private readonly int _expectedCount;
    private int _consumed;
    private int _pulled;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _total = -1;

    /// <summary>Creates the reading side of a map.</summary>
    /// <param name="window">How many items the input may run ahead of the consumer (at least 1).</param>
    /// <param name="expectedCount">How many items the input holds when known in advance (the list is then allocated once); 0 when not known.</param>
    /// <param name="cancellationToken">The caller's cancellation of the map; <see cref="Cancellation"/> fires with it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is under 1, or <paramref name="expectedCount"/> is negative.</exception>
    public MapAnswers(int window, int expectedCount = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedCount);
        _window = new ItemWindow(window);
        _expectedCount = expectedCount;
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _token = _cancellation.Token;
        Result = new Reader(this);
    }

    /// <summary>Gets the consumer's view of the map; it can be consumed once.</summary>
    public PoolResult<TResult> Result { get; }

    /// <summary>
    /// Gets the map's cancellation: the caller's token, or the consumer that stopped early (a failure read, a <c>break</c>).
    /// The producer stops pulling and cancels what it sent when it fires; the items it took are still answered (as cancelled).
    /// </summary>
    public CancellationToken Cancellation => _token;

    /// <summary>Takes up to <paramref name="max"/> units of room in the window without waiting; returns how many it took (0 when there is none).</summary>
    /// <param name="max">The most room to take.</param>
    public int TryTakeRoom(int max) => max <= 0 ? 0 : _window.TryTake(max);

    /// <summary>Takes one unit of room in the window, waiting for the consumer to give some back when there is none.</summary>
    /// <param name="cancellationToken">Stops the wait.</param>
    public ValueTask TakeRoomAsync(CancellationToken cancellationToken) => _window.TakeOneAsync(cancellationToken);

    /// <summary>Gives back room taken for items the input did not have (it ended, or the producer stopped).</summary>
    /// <param name="count">The unused room.</param>
    public void ReturnRoom(int count) => _window.Release(count);

    /// <summary>Makes the window larger by <paramref name="count"/> items (a pool's automatic window, while items are small).</summary>
    internal void WidenWindow(int count) => _window.Release(count);

    /// <summary>Counts items pulled from the input, for <see cref="PoolResult{T}.Progress"/>.</summary>
    /// <param name="count">How many more items were pulled.</param>
    public void AddPulled(int count) => Interlocked.Add(ref _pulled, count);

    /// <summary>Posts the result of one item.</summary>
    /// <param name="index">The item's index in the input.</param>
    /// <param name="value">Its result.</param>
    public void Answer(int index, TResult value)
    {
        Interlocked.Increment(ref _succeeded);
        _answers.Writer.TryWrite(new MapAnswer<TResult>(index, value, null, 0));
    }

    /// <summary>Posts the results of consecutive items that all succeeded, as one answer.</summary>
    /// <param name="firstIndex">The index of the first item.</param>
    /// <param name="values">Their results, in input order; not copied, and not to be changed after.</param>
    public void Answer(int firstIndex, TResult[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0)
        {
            return;
        }

        Interlocked.Add(ref _succeeded, values.Length);
        _answers.Writer.TryWrite(new MapAnswer<TResult>(firstIndex, default, null, 0, values));
    }

    /// <summary>Posts the answers of consecutive items, some of which may have failed.</summary>
    /// <param name="firstIndex">The index of the first item.</param>
    /// <param name="values">Their results, in input order (the entry of a failed item is ignored).</param>
    /// <param name="errors">Each item's exception, or <see langword="null"/> where it succeeded; <see langword="null"/> when all succeeded.</param>
    public void Answer(int firstIndex, TResult[] values, Exception?[]? errors)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (errors is null)
        {
            Answer(firstIndex, values);
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (errors[i] is { } error)
            {
                Fail(firstIndex + i, error);
            }
            else
            {
                Answer(firstIndex + i, values[i]);
            }
        }
    }

    /// <summary>Posts the failure of one item: an <see cref="OperationCanceledException"/> counts as cancelled, anything else as failed.</summary>
    /// <param name="index">The item's index in the input.</param>
    /// <param name="error">What the consumer gets when it reads the item.</param>
    public void Fail(int index, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Interlocked.Increment(ref error is OperationCanceledException ? ref _cancelled : ref _failed);
        _answers.Writer.TryWrite(new MapAnswer<TResult>(index, default, error, 0));
    }

    /// <summary>Posts one failure for <paramref name="count"/> consecutive items (a chunk that failed whole).</summary>
    /// <param name="firstIndex">The index of the first item.</param>
    /// <param name="count">How many items.</param>
    /// <param name="error">What the consumer gets when it reads them.</param>
    public void Fail(int firstIndex, int count, Exception error)
    {
        for (var i = 0; i < count; i++)
        {
            Fail(firstIndex + i, error);
        }
    }

    /// <summary>
    /// Ends the input: <paramref name="total"/> items were pulled, and the reading ends once they are all answered. With an
    /// <paramref name="error"/>, the reading ends with it as soon as the consumer reaches it (a failing input, a cancelled
    /// map); an <see cref="ObjectDisposedException"/> (the pool closed under the map) is thrown only after the items taken
    /// are answered.
    /// </summary>
    /// <param name="total">How many items were pulled from the input.</param>
    /// <param name="error">Why the input ended early, if it did.</param>
    public void Complete(int total, Exception? error = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        if (error is null or ObjectDisposedException)
        {
            Volatile.Write(ref _total, total); // a closed pool still answers the items it took
        }

        _answers.Writer.TryWrite(new MapAnswer<TResult>(-1, default, error, total));
    }

    private MapProgress Progress
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

    private async Task<IReadOnlyList<TResult>> ToListAsync()
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

    private async IAsyncEnumerable<(int Index, TResult Result)> AsCompletedAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var answer in ReadAsync(releaseOnRead: true, cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < answer.Count; i++)
            {
                yield return (answer.Index + i, answer.ValueAt(i));
            }
        }
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
                    // Caught up: give the window back before waiting.
                    if (unreleased > 0)
                    {
                        _window.Release(unreleased);
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
                    _window.Release(unreleased);
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

    /// <summary>The consumer's view: what a caller of <c>Map</c> holds.</summary>
    private sealed class Reader(MapAnswers<TResult> owner) : PoolResult<TResult>
    {
        public override MapProgress Progress => owner.Progress;

        public override Task<IReadOnlyList<TResult>> ToListAsync() => owner.ToListAsync();

        public override IAsyncEnumerable<(int Index, TResult Result)> AsCompleted() => owner.AsCompletedAsync();

        public override IAsyncEnumerator<TResult> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new InOrder(owner, cancellationToken);
    }

    /// <summary>
    /// The items in input order. An answer's items are handed out without an await (a completed <see cref="ValueTask{T}"/>
    /// each), and only the next answer is awaited: an async iterator would run its state machine and signal its promise for
    /// every item, which is most of a streamed map's cost when the jobs are small. Answers that came early wait until
    /// every item before them has been handed out.
    /// </summary>
    private sealed class InOrder(MapAnswers<TResult> owner, CancellationToken cancellationToken) : IAsyncEnumerator<TResult>
    {
        private readonly Dictionary<int, MapAnswer<TResult>> _early = [];
        private IAsyncEnumerator<MapAnswer<TResult>>? _answers;
        private MapAnswer<TResult> _ready;
        private bool _hasReady;
        private int _taken;
        private int _next;

        public TResult Current { get; private set; } = default!;

        public ValueTask<bool> MoveNextAsync() => TryTakeReady() ? new ValueTask<bool>(true) : ReadAnswerAsync();

        public ValueTask DisposeAsync() => _answers?.DisposeAsync() ?? default;

        /// <summary>Hands out the next item of the answer at hand, or of an early answer that is next in order.</summary>
        private bool TryTakeReady()
        {
            while (_hasReady)
            {
                if (_taken < _ready.Count)
                {
                    Current = _ready.ValueAt(_taken++);
                    return true;
                }

                // Window room comes back once the consumer has taken the items: the input never runs further ahead.
                owner._window.Release(_ready.Count);
                _next += _ready.Count;
                _hasReady = _early.Remove(_next, out _ready);
                _taken = 0;
            }

            return false;
        }

        private async ValueTask<bool> ReadAnswerAsync()
        {
            _answers ??= owner.ReadAsync(releaseOnRead: false, cancellationToken).GetAsyncEnumerator();
            while (await _answers.MoveNextAsync().ConfigureAwait(false))
            {
                var answer = _answers.Current;
                if (answer.Index != _next)
                {
                    _early.Add(answer.Index, answer);
                    continue;
                }

                (_ready, _hasReady, _taken) = (answer, true, 0);
                if (TryTakeReady())
                {
                    return true;
                }
            }

            return false;
        }
    }
}
