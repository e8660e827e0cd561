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
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore never allocates a wait handle; nothing unmanaged to release.")]
internal sealed class MapOperation<TResult> : PoolResult<TResult>
{
    private readonly PoolEngine _pool;
    private readonly JobTarget _target;
    private readonly SemaphoreSlim _window;
    private readonly CancellationTokenSource _cancellation;
    private readonly Channel<Answer> _answers = Channel.CreateUnbounded<Answer>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, PendingJob> _active = new();
    private readonly TimeSpan? _timeout;
    private readonly int _maxRetries;
    private int _consumed;
    private int _pulled;
    private int _succeeded;
    private int _failed;
    private int _cancelled;
    private int _total = -1;

    public MapOperation(
        PoolEngine pool, JobTarget target, IAsyncEnumerable<object?[]> source, int window, TimeSpan? timeout, int maxRetries, CancellationToken cancellationToken)
    {
        _pool = pool;
        _target = target;
        _timeout = timeout;
        _maxRetries = maxRetries;
        _window = new SemaphoreSlim(window, window);
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancellation.Token.UnsafeRegister(static state => ((MapOperation<TResult>)state!).CancelActive(), this);
        _ = Task.Run(() => ProduceAsync(source), CancellationToken.None);
    }

    public override async Task<IReadOnlyList<TResult>> ToListAsync()
    {
        var results = new List<TResult>();
        await foreach (var (index, value) in ReadAsync(releaseOnRead: true, CancellationToken.None).ConfigureAwait(false))
        {
            while (results.Count <= index)
            {
                results.Add(default!);
            }

            results[index] = value;
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

    public override IAsyncEnumerable<(int Index, TResult Result)> AsCompleted() => ReadAsync(releaseOnRead: true, CancellationToken.None);

    public override async IAsyncEnumerator<TResult> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        // Answers that came early wait here until every item before them has been yielded.
        var early = new Dictionary<int, TResult>();
        var next = 0;
        await foreach (var (index, value) in ReadAsync(releaseOnRead: false, cancellationToken).ConfigureAwait(false))
        {
            if (index != next)
            {
                early.Add(index, value);
                continue;
            }

            _window.Release();
            yield return value;
            next++;
            while (early.Remove(next, out var waiting))
            {
                _window.Release();
                yield return waiting;
                next++;
            }
        }
    }

    /// <summary>Yields each answer once, in completion order; throws the first failure; cancels what is left when abandoned.</summary>
    private async IAsyncEnumerable<(int Index, TResult Result)> ReadAsync(bool releaseOnRead, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _consumed, 1) != 0)
        {
            throw new InvalidOperationException("The results of a Map can be consumed once: await them, enumerate them, or enumerate AsCompleted().");
        }

        var received = 0;
        var total = -1;
        try
        {
            while (total < 0 || received < total)
            {
                var answer = await _answers.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (answer.Error is not null)
                {
                    throw answer.Error;
                }

                if (answer.Index < 0)
                {
                    total = answer.Total;
                    continue;
                }

                received++;
                if (releaseOnRead)
                {
                    _window.Release();
                }

                yield return (answer.Index, answer.Value!);
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

    private async Task ProduceAsync(IAsyncEnumerable<object?[]> source)
    {
        var token = _cancellation.Token;
        var index = 0;
        try
        {
            // Room in the window first, then the next item: the input is never pulled ahead of the window.
            var items = source.GetAsyncEnumerator(token);
            await using var itemsScope = items.ConfigureAwait(false);
            while (true)
            {
                await _window.WaitAsync(token).ConfigureAwait(false);
                if (!await items.MoveNextAsync().ConfigureAwait(false))
                {
                    break;
                }

                var arguments = items.Current;
                var itemIndex = index++;
                Interlocked.Increment(ref _pulled);
                var job = _pool.CreateJob(_target, arguments, (id, buffer, length) => new ItemJob(this, itemIndex, id, _target, buffer, length)
                {
                    Timeout = _timeout,
                    MaxRetries = _maxRetries,
                });
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

    private void Post(ItemJob job, TResult? value, Exception? error)
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

        _active.TryRemove(job.Id, out _);
        _answers.Writer.TryWrite(new Answer(job.Index, value, error, 0));
    }

    /// <summary>One answer; an index of -1 marks the end of the input with the item count (or a failure of the input).</summary>
    private readonly record struct Answer(int Index, TResult? Value, Exception? Error, int Total);

    private sealed class ItemJob(MapOperation<TResult> owner, int index, long id, JobTarget target, byte[] arguments, int length)
        : PendingJob(id, target, arguments, length)
    {
        public int Index { get; } = index;

        protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
        {
            var value = (TResult?)serializer.Deserialize(result, Target.ResultType);
            RecordEnd(null);
            owner.Post(this, value, null);
        }

        protected override void OnFailed(Exception exception)
        {
            RecordEnd(exception);
            owner.Post(this, default, exception);
        }

        protected override void OnCanceled(CancellationToken cancellationToken)
        {
            var canceled = new OperationCanceledException("The map was cancelled.", null, cancellationToken);
            RecordEnd(canceled);
            owner.Post(this, default, canceled);
        }
    }
}
