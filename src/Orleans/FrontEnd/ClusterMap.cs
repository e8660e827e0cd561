using System.Buffers;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Transport;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>
/// The producer of a map over the cluster; its reading side is the local map's (<see cref="MapAnswers{TResult}"/>): input
/// order, completion order, progress, consumed once, abandoned means cancelled. The input is pulled lazily, at most a
/// window ahead of the consumer; items travel in chunks (larger while items take microseconds, one per call when they take
/// milliseconds) to the silo with the most free slots; the first failure ends the map and cancels what is left. A chunk
/// lost with its silo is sent again whole or fails whole, and a chunk is answered once: no item is lost or answered twice.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source is disposed when the map's last call is answered, not with an owner.")]
internal sealed class ClusterMap<TResult>
{
    private const int LargestChunk = 4096;

    private readonly ClusterProcessPool _pool;
    private readonly JobTarget _target;
    private readonly JobIdentity _job;
    private readonly IMapSource _source;
    private readonly TimeSpan? _timeout;
    private readonly int _maxRetries;
    private readonly MapAnswers<TResult> _answers;
    private readonly CancellationTokenSource _stop;
    private readonly ChunkSizer _sizer;
    private int _outstanding = 1; // the producer, then one per chunk in flight

    private ClusterMap(ClusterProcessPool pool, JobTarget target, IMapSource source, int expectedCount, JobOptions? options, CancellationToken cancellationToken)
    {
        _pool = pool;
        _target = target;
        _job = JobIdentity.Of(target);
        _source = source;
        _timeout = options?.Timeout ?? pool.Options.JobTimeout;
        _maxRetries = options?.MaxRetries ?? pool.Options.MaxRetries;
        var window = pool.MapWindow;
        _answers = new MapAnswers<TResult>(window, expectedCount, cancellationToken);

        // The map's calls stop with the map or with the pool's termination; disposed (and so unregistered from the pool)
        // when the map's last call is answered: a map leaves nothing behind on the pool.
        _stop = CancellationTokenSource.CreateLinkedTokenSource(_answers.Cancellation, pool.Closed);

        // A per-item timeout needs one item per call; otherwise a chunk takes at most a quarter of the window per silo.
        // A call through the cluster costs a hundred microseconds or more (a local job tens): chunks grow while items
        // take under 1 ms each, counting that cost, and shrink over 5 ms, so items that take milliseconds go one per call.
        _sizer = new ChunkSizer(
            enabled: _timeout is null,
            largest: Math.Clamp(window / (4 * Math.Max(1, pool.Directory.Silos.Count)), 1, LargestChunk),
            growBelowMicroseconds: 1_000,
            shrinkAboveMicroseconds: 5_000);
    }

    public static PoolResult<TResult> Start(ClusterProcessPool pool, JobTarget target, IMapSource source, int expectedCount, JobOptions? options, CancellationToken cancellationToken)
    {
        pool.OnMapStarted();
        var map = new ClusterMap<TResult>(pool, target, source, expectedCount, options, cancellationToken);
        _ = Task.Run(map.ProduceAsync, CancellationToken.None);
        return map._answers.Result;
    }

    /// <summary>The map's cancellation: the caller's token or the consumer that stopped early (<see cref="MapAnswers{TResult}.Cancellation"/>).</summary>
    private CancellationToken Token => _answers.Cancellation;

    /// <summary>
    /// Pulls the input into chunks. A chunk is formed once a silo has room for it: its first item waits for window room,
    /// then a place on a silo is taken, then the chunk takes as many more items as the input has ready, up to the chunk
    /// size learnt from the answers so far. So chunks grow while calls are in flight, and no chunk waits formed.
    /// </summary>
    private async Task ProduceAsync()
    {
        var token = _stop.Token;
        var chunk = _pool.Payloads.CreateChunk(_target);
        int first = 0, index = 0;
        SiloEntry? held = null;
        ValueTask<bool>? pending = null; // a move of the input that was not ready, with its window room taken
        try
        {
            var ended = false;
            while (!ended)
            {
                if (pending is null)
                {
                    await _answers.TakeRoomAsync(token).ConfigureAwait(false);
                }

                var moved = pending is { } waiting ? await waiting.ConfigureAwait(false) : await _source.MoveNextAsync().ConfigureAwait(false);
                pending = null;
                if (!moved)
                {
                    _answers.ReturnRoom(1);
                    break;
                }

                Take();
                try
                {
                    held = await _pool.Directory.AcquireAsync(null, _pool.Options.SiloWaitTimeout, token).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    // No silo to send to (none in the cluster for SiloWaitTimeout): the items in hand fail with the reason, and the map ends.
                    _answers.Fail(first, chunk.Count, exception);
                    chunk.Clear();
                    break;
                }

                var room = _answers.TryTakeRoom(_sizer.Limit - 1);
                var used = 0;
                while (used < room && chunk.Length < _pool.Options.MaxMessageSize / 2)
                {
                    var moving = _source.MoveNextAsync();
                    used++; // this room is the next item's, even one still on its way
                    if (!moving.IsCompleted)
                    {
                        pending = moving; // the input has nothing ready: what is in hand goes now
                        break;
                    }

                    if (!moving.Result)
                    {
                        used--;
                        ended = true;
                        break;
                    }

                    Take();
                }

                _answers.ReturnRoom(room - used);
                Send();
            }

            _answers.Complete(index);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Cancelled, or the pool terminated: items already sent are answered as cancelled; those in hand too.
            Release();
            var cancelled = new OperationCanceledException("The map was cancelled.", null, Token.IsCancellationRequested ? Token : token);
            _answers.Fail(first, chunk.Count, cancelled);
            _answers.Complete(index, Token.IsCancellationRequested ? cancelled : null);
        }
        catch (Exception exception)
        {
            // The input (or an argument) failed: the items before it are answered, then the map ends with its exception.
            if (chunk.Count > 0 && held is not null)
            {
                Send();
            }

            Release();
            _answers.Complete(index, exception);
        }
        finally
        {
            chunk.Dispose();
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
            _source.AddCurrent(chunk);
            index++;
            _answers.AddPulled(1);
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
            var count = chunk.Count;
            var call = new ChunkCall { Job = _job, Items = chunk.ToArrayAndClear(), Count = count };
            Interlocked.Increment(ref _outstanding);
            var silo = held;
            held = null;
            _ = RunChunkAsync(first, call, silo, token);
            first = index;
        }
    }

    private async Task RunChunkAsync(int first, ChunkCall call, SiloEntry? silo, CancellationToken token)
    {
        var count = call.Count;
        try
        {
            var (reply, answeredBy, elapsed) = await _pool.SendAsync(_target.Name, count, _timeout, _maxRetries, (grain, frontEnd, id, crossing) => grain.InvokeChunkAsync(call with { FrontEnd = frontEnd, CallId = id }, crossing), silo, token)
                .ConfigureAwait(false);
            if (reply.Outcome != JobOutcome.Succeeded)
            {
                _answers.Fail(first, count, CallFailures.ErrorOf(reply, _target.Name, answeredBy, token));
                return;
            }

            _sizer.Observe(elapsed.TotalMicroseconds / count);
            var read = _pool.Payloads.ReadChunk<TResult>(_target, new ReadOnlySequence<byte>(reply.Result!), count);
            _answers.Answer(first, read.Values, read.Errors);
        }
        catch (Exception exception)
        {
            _answers.Fail(first, count, exception is OperationCanceledException && token.IsCancellationRequested
                ? new OperationCanceledException("The map was cancelled.", exception, token)
                : exception);
        }
        finally
        {
            Done();
        }
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            _stop.Dispose();
            _pool.OnMapEnded();
        }
    }
}
