using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Worker.Telemetry;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Runs the jobs the parent sends, off the reader thread, and answers each. The parent enforces the
/// concurrency limit and the recycling count; the runner runs what it is given.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "Each job's token source is disposed when the job ends; the runner lives as long as the process.")]
internal sealed class JobRunner
{
    private readonly FrameWriter _writer;
    private readonly IJobSerializer _serializer;
    private readonly IServiceProvider _services;
    private readonly JobExceptionHandlers _exceptionHandlers;
    private readonly WorkerSetup _setup;
    private readonly Dictionary<int, JobInvoker> _invokers = [];
    private readonly Dictionary<int, Exception> _brokenTargets = [];
    private readonly Dictionary<long, byte[]> _traceContexts = [];
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _draining;
    private int _runningCount;

    public JobRunner(FrameWriter writer, IJobSerializer serializer, IServiceProvider services, JobExceptionHandlers exceptionHandlers, WorkerSetup setup)
    {
        _writer = writer;
        _serializer = serializer;
        _services = services;
        _exceptionHandlers = exceptionHandlers;
        _setup = setup;
    }

    /// <summary>Completes once a shutdown was asked and no job runs.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Learns a job target under a number; a target that cannot be resolved fails each job naming it, not the worker.</summary>
    public void Define(int targetId, ReadOnlySequence<byte> payload)
    {
        var definition = DefinePayload.Decode(payload);
        try
        {
            _invokers[targetId] = JobInvoker.Create(definition);
        }
        catch (Exception exception)
        {
            _brokenTargets[targetId] = exception;
        }
    }

    /// <summary>Keeps the trace context that precedes a job's invoke frame.</summary>
    public void SetTraceContext(long jobId, ReadOnlySequence<byte> payload) => _traceContexts[jobId] = payload.ToArray();

    public void Invoke(long jobId, ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        var targetId = InvokePayload.ReadTarget(ref reader);
        if (!TryStart(jobId, targetId, out var invoker, out var source))
        {
            return;
        }

        object?[] arguments;
        LentArguments? lent = null;
        try
        {
            arguments = ReadArguments(invoker, ref reader, jobId, ref lent);
        }
        catch (Exception exception) when (exception is not InvalidDataException)
        {
            Finish(jobId, source, error: new ArgumentException($"The worker could not deserialize the arguments of job '{invoker.Name}': {exception.Message}", exception));
            return;
        }

        _traceContexts.Remove(jobId, out var traceContext);

        // Off the reader loop: a job that computes synchronously must not stall the channel. Started once the frame's
        // shared-memory segment, if it came in one, is given back: the release goes out before the job's answer.
        SegmentFrames.AfterRelease(
            static state => ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Runner.RunAsync(state.JobId, state.Invoker, state.Arguments, state.Source, state.TraceContext, state.Lent), state, preferLocal: false),
            (Runner: this, JobId: jobId, Invoker: invoker, Arguments: arguments, Source: source, TraceContext: traceContext, Lent: lent));
    }

    /// <summary>A chunk of a map's items: read here, run one after the other off the reader thread, answered in one frame.</summary>
    public void InvokeMany(long jobId, ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadCursor(payload);
        var (targetId, count) = ChunkPayload.ReadHeader(ref reader);
        if (!TryStart(jobId, targetId, out var invoker, out var source))
        {
            return;
        }

        // Jobs of one argument and a result run typed (no argument arrays, no boxing), through the serializer's generic members.
        ChunkItems items = invoker.Typed is { } typed
            ? typed.CreateItems(_serializer, count)
            : new BoxedChunkItems(invoker, _serializer, (JobInvoker job, ref SequenceReader<byte> item) => ReadArguments(job, ref item, jobId), count);
        for (var i = 0; i < count; i++)
        {
            var item = ChunkPayload.ReadItem(ref reader, invoker.Name);
            try
            {
                items.Read(i, ref item);
            }
            catch (Exception exception) when (exception is not InvalidDataException)
            {
                items.Errors[i] = new ArgumentException($"The worker could not deserialize the arguments of job '{invoker.Name}': {exception.Message}", exception);
            }
        }

        _traceContexts.Remove(jobId, out var traceContext);
        SegmentFrames.AfterRelease(
            static state => ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Runner.RunManyAsync(state.JobId, state.Invoker, state.Items, state.Source, state.TraceContext), state, preferLocal: false),
            (Runner: this, JobId: jobId, Invoker: invoker, Items: items, Source: source, TraceContext: traceContext));
    }

    public void Cancel(long jobId)
    {
        if (_running.TryGetValue(jobId, out var source))
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The job finished while the cancel frame was in flight.
            }
        }
    }

    /// <summary>Takes the parent's shutdown: <see cref="Drained"/> completes once no job runs.</summary>
    public void BeginDrain()
    {
        _draining = true;
        if (_running.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>The parent is gone: nobody will read results, so every running job is cancelled.</summary>
    public async Task CancelAllAsync()
    {
        foreach (var running in _running.Values)
        {
            try
            {
                await running.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // That job finished meanwhile.
            }
        }
    }

    /// <summary>Sends a running job's progress report to the parent, ahead of the job's answer.</summary>
    internal void SendProgress<T>(long jobId, T value)
    {
        var buffer = new PooledBufferWriter();
        try
        {
            _serializer.Serialize(buffer, value);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, length) = buffer.Detach();
        _writer.TryWrite(new OutgoingFrame(FrameType.Progress, jobId, array.AsMemory(0, length), ReturnToPool: array));
    }

    /// <summary>Registers a job as running (so it can be cancelled); answers it at once when its target is unknown or broken.</summary>
    private bool TryStart(long jobId, int targetId, [NotNullWhen(true)] out JobInvoker? invoker, out CancellationTokenSource source)
    {
        source = new CancellationTokenSource();
        _running[jobId] = source;
        Interlocked.Increment(ref _runningCount);
        if (_invokers.TryGetValue(targetId, out invoker))
        {
            return true;
        }

        Finish(jobId, source, error: _brokenTargets.GetValueOrDefault(targetId) ?? new InvalidDataException($"Job target {targetId} was never defined on this channel."));
        return false;
    }

    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only jobs named by reflection (RequiresDynamicCode, warned at the application's call site) take IProgress<T>; the source generator does not name them.")]
    private object?[] ReadArguments(JobInvoker invoker, ref SequenceReader<byte> reader, long jobId) =>
        invoker.ReadArguments(ref reader, _serializer, invoker.ReportsProgress ? (progressType, connected) => ProgressToParent.Create(progressType, this, jobId, connected) : null);

    /// <summary>A single job's arguments, with large memory arguments lent (<see cref="LentArguments"/>).</summary>
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only jobs named by reflection (RequiresDynamicCode, warned at the application's call site) take IProgress<T>; the source generator does not name them.")]
    private object?[] ReadArguments(JobInvoker invoker, ref SequenceReader<byte> reader, long jobId, ref LentArguments? lent) =>
        invoker.ReadArguments(ref reader, _serializer, invoker.ReportsProgress ? (progressType, connected) => ProgressToParent.Create(progressType, this, jobId, connected) : null, lend: true, ref lent);

    /// <remarks>
    /// Memory lent to the job (<paramref name="lent"/>) is taken back once its task has completed and its result is
    /// serialized (a job may answer with that memory), and before its answer is sent: the parent's next job, sent after
    /// the answer, then finds the buffer back (a test counts on it).
    /// </remarks>
    private async Task RunAsync(long jobId, JobInvoker invoker, object?[] arguments, CancellationTokenSource source, byte[]? traceContext, LentArguments? lent)
    {
        using var activity = ExecuteActivity.Start(invoker.Name, _setup.PoolName, _setup.WorkerId, traceContext);
        object? result;
        try
        {
            result = await invoker.InvokeAsync(arguments, _services, source.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (source.IsCancellationRequested)
        {
            ExecuteActivity.Stop(activity, "cancelled", null);
            lent?.Return();
            Finish(jobId, source, canceled: true);
            return;
        }
        catch (Exception exception)
        {
            await _exceptionHandlers.NotifyAsync(invoker.Name, arguments, exception).ConfigureAwait(false);
            ExecuteActivity.Stop(activity, "failed", exception);
            lent?.Return();
            Finish(jobId, source, error: exception);
            return;
        }

        var buffer = new PooledBufferWriter();
        var unsendable = invoker.WriteResult(result, _serializer, _setup.MaxMessageSize, buffer);
        lent?.Return();
        if (unsendable is not null)
        {
            buffer.Dispose();
            ExecuteActivity.Stop(activity, "failed", unsendable);
            Finish(jobId, source, error: unsendable);
            return;
        }

        ExecuteActivity.Stop(activity, "success", null);
        var (array, length) = buffer.Detach();
        SendAnswer(new OutgoingFrame(FrameType.Result, jobId, array.AsMemory(0, length), ReturnToPool: array));
        Finish(jobId, source);
    }

    private async Task RunManyAsync(long jobId, JobInvoker invoker, ChunkItems items, CancellationTokenSource source, byte[]? traceContext)
    {
        using var activity = ExecuteActivity.Start(invoker.Name, _setup.PoolName, _setup.WorkerId, traceContext);
        activity?.SetTag("processpool.job.items", items.Count);
        var answers = new PooledBufferWriter();
        var failures = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var at = ChunkAnswerPayload.BeginItem(answers);
            var error = items.Errors[i];
            if (error is null && source.IsCancellationRequested)
            {
                ChunkAnswerPayload.EndCancelled(answers, at);
                continue;
            }

            if (error is null)
            {
                try
                {
                    await items.RunAsync(i, answers, _services, source.Token).ConfigureAwait(false);
                    ChunkAnswerPayload.EndSucceeded(answers, at);
                    continue;
                }
                catch (OperationCanceledException) when (source.IsCancellationRequested)
                {
                    ChunkAnswerPayload.EndCancelled(answers, at);
                    continue;
                }
                catch (Exception exception)
                {
                    await _exceptionHandlers.NotifyAsync(invoker.Name, items.Arguments(i), exception).ConfigureAwait(false);
                    error = exception;
                }
            }

            failures++;
            ChunkAnswerPayload.EndFailed(answers, at, error);
        }

        if (answers.WrittenCount > _setup.MaxMessageSize)
        {
            var size = answers.WrittenCount;
            answers.Dispose();
            var tooLarge = new InvalidOperationException(
                $"The results of a chunk of {items.Count} items of job '{invoker.Name}' are {size} bytes, over the channel's limit of {_setup.MaxMessageSize} bytes (MaxMessageSize).");
            ExecuteActivity.Stop(activity, "failed", tooLarge);
            Finish(jobId, source, error: tooLarge);
            return;
        }

        ExecuteActivity.Stop(activity, failures == 0 ? "success" : "failed", null);
        var (array, length) = answers.Detach();
        SendAnswer(new OutgoingFrame(FrameType.Result, jobId, array.AsMemory(0, length), ReturnToPool: array));
        Finish(jobId, source);
    }

    /// <summary>
    /// A job's answer: written at once when the job ran alone (the latency case); with other jobs running,
    /// queued and written by one flush for all the answers that come in meanwhile (the throughput case).
    /// </summary>
    private void SendAnswer(OutgoingFrame frame)
    {
        if (Volatile.Read(ref _runningCount) <= 1) // ConcurrentDictionary.Count would take every lock, per answer
        {
            _writer.TryWrite(frame);
            return;
        }

        _writer.Post(frame);
        _writer.FlushLater();
    }

    private void Finish(long jobId, CancellationTokenSource source, Exception? error = null, bool canceled = false)
    {
        if (canceled)
        {
            SendAnswer(new OutgoingFrame(FrameType.Canceled, jobId, ReadOnlyMemory<byte>.Empty));
        }
        else if (error is not null)
        {
            SendAnswer(new OutgoingFrame(FrameType.Fault, jobId, FaultPayload.Encode(error)));
        }

        if (_running.TryRemove(jobId, out _))
        {
            Interlocked.Decrement(ref _runningCount);
        }

        source.Dispose();
        if (_draining && _running.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }
}
