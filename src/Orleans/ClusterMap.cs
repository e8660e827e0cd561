using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ProcessPools.Channels;
using ProcessPools.Dispatch;
using ProcessPools.Protocol;

namespace ProcessPools.Orleans;

/// <summary>
/// A map over the cluster, with a local map's semantics: the input is pulled lazily, at most a window ahead of the
/// consumer; items travel in chunks (larger while items take microseconds, one per call when they take milliseconds) to the silo with the most free slots; answers come back in input order, or in completion
/// order through <see cref="AsCompleted"/>; the first failure ends the map and cancels what is left. A chunk lost with its
/// silo is sent again whole or fails whole, and a chunk is answered once: no item is lost or answered twice.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The window semaphore never allocates a wait handle; producers and chunks may still release it after the consumer ended.")]
internal sealed class ClusterMap<TResult> : PoolResult<TResult>
{
    private const int LargestChunk = 4096;

    private readonly ClusterProcessPool _pool;
    private readonly JobTarget _target;
    private readonly JobName _name;
    private readonly IMapSource _source;
    private readonly TimeSpan? _timeout;
    private readonly int _maxRetries;
    private readonly SemaphoreSlim _window;
    private readonly CancellationTokenSource _cancel;
    private readonly Channel<Answers> _answers = Channel.CreateUnbounded<Answers>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ChunkSizer _sizer;
    private int _outstanding = 1; // the producer, then one per chunk in flight
    private int _consumed;
    private int _pulled;
    private int _total = -1;
    private int _succeeded;
    private int _failed;
    private int _cancelled;

    private ClusterMap(ClusterProcessPool pool, JobTarget target, IMapSource source, JobOptions? options, CancellationToken cancellationToken)
    {
        _pool = pool;
        _target = target;
        _name = JobNames.Of(target);
        _source = source;
        _timeout = options?.Timeout ?? pool.Options.JobTimeout;
        _maxRetries = options?.MaxRetries ?? pool.Options.MaxRetries;
        var window = pool.MapWindow;
        _window = new SemaphoreSlim(window, window);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, pool.Closed);

        // A per-item timeout needs one item per call; otherwise a chunk takes at most a quarter of the window per silo.
        // A call through the cluster costs a hundred microseconds or more (a local job tens): chunks grow while items
        // take under 1 ms each, counting that cost, and shrink over 5 ms, so items that take milliseconds go one per call.
        _sizer = new ChunkSizer(
            enabled: _timeout is null,
            largest: Math.Clamp(window / (4 * Math.Max(1, pool.Directory.Silos.Count)), 1, LargestChunk),
            growBelowMicroseconds: 1_000,
            shrinkAboveMicroseconds: 5_000);
    }

    /// <summary>One call's answers: consecutive items from <see cref="First"/>.</summary>
    private sealed record Answers(int First, TResult[] Values, Exception?[]? Errors)
    {
        public int Count => Values.Length;
    }

    public static ClusterMap<TResult> Start(ClusterProcessPool pool, JobTarget target, IMapSource source, JobOptions? options, CancellationToken cancellationToken)
    {
        var map = new ClusterMap<TResult>(pool, target, source, options, cancellationToken);
        _ = Task.Run(map.ProduceAsync, CancellationToken.None);
        return map;
    }

    public override MapProgress Progress
    {
        get
        {
            int succeeded = Volatile.Read(ref _succeeded), failed = Volatile.Read(ref _failed), cancelled = Volatile.Read(ref _cancelled);
            var total = Volatile.Read(ref _total);
            return new MapProgress
            {
                Succeeded = succeeded,
                Failed = failed,
                Cancelled = cancelled,
                Pending = Math.Max(0, Volatile.Read(ref _pulled) - succeeded - failed - cancelled),
                Total = total < 0 ? null : total,
            };
        }
    }

    /// <summary>
    /// Pulls the input into chunks. A chunk is formed once a silo has room for it: its first item waits for window room,
    /// then a place on a silo is taken, then the chunk takes as many more items as the input has ready, up to the chunk
    /// size learnt from the answers so far. So chunks grow while calls are in flight, and no chunk waits formed.
    /// </summary>
    private async Task ProduceAsync()
    {
        var token = _cancel.Token;
        var buffer = NewChunk();
        int first = 0, count = 0, index = 0;
        SiloEntry? held = null;
        ValueTask<bool>? pending = null; // a move of the input that was not ready, with its window room taken
        try
        {
            var ended = false;
            while (!ended)
            {
                if (pending is null)
                {
                    await _window.WaitAsync(token).ConfigureAwait(false);
                }

                var moved = pending is { } waiting ? await waiting.ConfigureAwait(false) : await _source.MoveNextAsync().ConfigureAwait(false);
                pending = null;
                if (!moved)
                {
                    _window.Release();
                    break;
                }

                Take();
                try
                {
                    held = await _pool.Directory.AcquireAsync(null, _pool.Options.SiloWaitTimeout, _pool.DisplayName, token).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // No silo to send to (none in the cluster for SiloWaitTimeout): the items in hand fail with the reason, and the map ends.
                    PostAll(first, count, exception);
                    count = 0;
                    break;
                }
                var limit = _sizer.Limit;
                while (count < limit && buffer.WrittenCount < _pool.Options.MaxMessageSize / 2 && _window.Wait(0))
                {
                    var moving = _source.MoveNextAsync();
                    if (!moving.IsCompleted)
                    {
                        pending = moving; // the input has nothing ready: what is in hand goes now
                        break;
                    }

                    if (!moving.Result)
                    {
                        _window.Release();
                        ended = true;
                        break;
                    }

                    Take();
                }

                Send();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Cancelled: items already sent are answered as cancelled; those in hand too.
            Release();
            if (count > 0)
            {
                PostAll(first, count, new OperationCanceledException("The map was cancelled.", null, token));
                count = 0;
            }
        }
        catch (Exception exception)
        {
            // The input (or an argument) failed: the items before it are answered, then the map ends with its exception.
            if (count > 0 && held is not null)
            {
                Send();
            }

            Release();
            Interlocked.Increment(ref _pulled);
            PostAll(index, 1, exception);
            index++;
        }
        finally
        {
            buffer.Dispose();
            Volatile.Write(ref _total, index);
            try
            {
                if (pending is { } abandoned)
                {
                    await abandoned.ConfigureAwait(false);
                }

                await _source.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The input's own clean-up failing does not change the map's answers.
            }

            Done();
        }

        void Take()
        {
            var at = ChunkPayload.BeginItem(buffer);
            _source.WriteCurrent(buffer);
            ChunkPayload.EndItem(buffer, at);
            count++;
            index++;
            Interlocked.Increment(ref _pulled);
        }

        void Release()
        {
            if (held is not null)
            {
                _pool.Directory.Release(held);
                held = null;
            }
        }

        void Send()
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer.WrittenSpan(0, sizeof(int)), count);
            _pool.Arguments.ThrowIfTooLarge(_target, buffer.WrittenCount);
            var call = new ChunkCall { Job = _name, Items = buffer.WrittenMemory.ToArray(), Count = count };
            Interlocked.Increment(ref _outstanding);
            var silo = held;
            held = null;
            _ = RunChunkAsync(first, call, silo);
            buffer.Dispose();
            buffer = NewChunk();
            first = index;
            count = 0;
        }
    }

    private static PooledBufferWriter NewChunk()
    {
        var buffer = new PooledBufferWriter(4096);
        ChunkPayload.WriteCount(buffer, 0); // filled in when the chunk is sent
        return buffer;
    }

    private async Task RunChunkAsync(int first, ChunkCall call, SiloEntry? silo)
    {
        var count = call.Count;
        try
        {
            var (reply, answeredBy, elapsed) = await _pool.SendAsync(_target.Name, count, _timeout, _maxRetries, (grain, frontEnd, id, token) => grain.InvokeChunkAsync(call with { FrontEnd = frontEnd, CallId = id }, token), silo, _cancel.Token)
                .ConfigureAwait(false);
            if (reply.Outcome != JobOutcome.Succeeded)
            {
                PostAll(first, count, ClusterProcessPool.ErrorOf(reply, _target.Name, answeredBy, _cancel.Token));
                return;
            }

            _sizer.Observe(elapsed.TotalMicroseconds / count);
            PostAnswers(first, count, reply.Result!);
        }
        catch (Exception exception)
        {
            PostAll(first, count, exception is OperationCanceledException && _cancel.IsCancellationRequested
                ? new OperationCanceledException("The map was cancelled.", exception, _cancel.Token)
                : exception);
        }
        finally
        {
            Done();
        }
    }

    private void PostAnswers(int first, int count, byte[] answers)
    {
        ChunkAnswers<TResult> read;
        try
        {
            read = ChunkAnswers<TResult>.Read(new ReadOnlySequence<byte>(answers), count, _target, _pool.Options.Serializer);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            PostAll(first, count, new ProcessPoolException($"The answers of a chunk of job '{_target.Name}' could not be read as {typeof(TResult)}: {exception.Message}", exception));
            return;
        }

        Interlocked.Add(ref _succeeded, read.Succeeded);
        Interlocked.Add(ref _failed, read.Failed);
        Interlocked.Add(ref _cancelled, read.Cancelled);
        _answers.Writer.TryWrite(new Answers(first, read.Values, read.Errors));
    }

    private void PostAll(int first, int count, Exception exception)
    {
        var errors = new Exception?[count];
        Array.Fill(errors, exception);
        Interlocked.Add(ref exception is OperationCanceledException ? ref _cancelled : ref _failed, count);
        _answers.Writer.TryWrite(new Answers(first, new TResult[count], errors));
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            _answers.Writer.TryComplete();
        }
    }

    public override async Task<IReadOnlyList<TResult>> ToListAsync()
    {
        var results = new List<TResult>();
        await foreach (var value in this.ConfigureAwait(false))
        {
            results.Add(value);
        }

        return results;
    }

    public override IAsyncEnumerator<TResult> GetAsyncEnumerator(CancellationToken cancellationToken = default) => InOrderAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    private async IAsyncEnumerable<TResult> InOrderAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        TakeConsumer();
        using var stop = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _cancel);
        var parked = new Dictionary<int, Answers>();
        var next = 0;
        try
        {
            await foreach (var answers in _answers.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                parked.Add(answers.First, answers);
                while (parked.Remove(next, out var ready))
                {
                    for (var i = 0; i < ready.Count; i++)
                    {
                        if (ready.Errors?[i] is { } error)
                        {
                            throw error;
                        }

                        _window.Release();
                        yield return ready.Values[i];
                    }

                    next += ready.Count;
                }
            }

            // Every item the input gave is answered once; a gap would be a defect of this map, not a shorter result.
            if (parked.Count > 0 || next < Volatile.Read(ref _total))
            {
                throw new InvalidOperationException($"The map of job '{_target.Name}' ended with items {next} and on unanswered; this is a defect of ProcessPool.Orleans.");
            }
        }
        finally
        {
            // Ended early (a failure, a break, a cancellation): what is left is cancelled.
            await _cancel.CancelAsync().ConfigureAwait(false);
        }
    }

    public override IAsyncEnumerable<(int Index, TResult Result)> AsCompleted() => AsCompletedAsync(CancellationToken.None);

    private async IAsyncEnumerable<(int Index, TResult Result)> AsCompletedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        TakeConsumer();
        using var stop = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _cancel);
        try
        {
            await foreach (var answers in _answers.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                for (var i = 0; i < answers.Count; i++)
                {
                    if (answers.Errors?[i] is { } error)
                    {
                        throw error;
                    }

                    _window.Release();
                    yield return (answers.First + i, answers.Values[i]);
                }
            }
        }
        finally
        {
            await _cancel.CancelAsync().ConfigureAwait(false);
        }
    }

    private void TakeConsumer()
    {
        if (Interlocked.Exchange(ref _consumed, 1) == 1)
        {
            throw new InvalidOperationException("The results of a Map can be consumed once: await them, enumerate them, or enumerate AsCompleted().");
        }
    }
}
