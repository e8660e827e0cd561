using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Worker.Logging;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// The child's side of one channel: handshake, host, and the jobs the parent sends. The parent enforces
/// the concurrency limit and the recycling count; the child runs what it is given.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One session per process; its token source has no timer, and handlers may still observe it as the process ends.")]
internal sealed class WorkerSession : IFrameHandler
{
    private readonly Stream _input;
    private readonly FrameWriter _writer;
    private readonly string _token;
    private readonly TaskCompletionSource<WorkerSetup> _setup = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<int, JobInvoker> _invokers = [];
    private readonly Dictionary<int, Exception> _brokenTargets = [];
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();
    private IJobSerializer _serializer = new JsonJobSerializer();
    private readonly CancellationTokenSource _parentGone = new();
    private readonly TaskCompletionSource<string> _abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _parentProcessId;
    private long _lastHeardFrom = System.Diagnostics.Stopwatch.GetTimestamp();
    private IServiceProvider _services = EmptyServices.Instance;
    private IJobExceptionHandler[] _exceptionHandlers = [];
    private int _maxMessageSize = 64 * 1024 * 1024;
    private volatile bool _draining;
    private long _setupHeartbeatTimeoutTicks = long.MaxValue;
    private int _runningCount;
    private WorkerSetup? _setupInfo;
    private readonly Dictionary<long, byte[]> _traceContexts = [];

    public WorkerSession(Stream input, Stream output, string token, int parentProcessId)
    {
        _input = input;
        _writer = new FrameWriter(output);
        _token = token;
        _parentProcessId = parentProcessId;
    }

    /// <summary>Whether the session ended because the parent went away (the caller exits at once then, whatever threads jobs left).</summary>
    public bool ParentGone => _parentGone.IsCancellationRequested;

    /// <summary>Runs the session; returns the process exit code.</summary>
    public async Task<int> RunAsync(Func<WorkerSetup, ILoggerProvider, Task<IHost>> buildHost)
    {
        var hello = WireBinary.Encode(new WorkerHello(_token, Environment.ProcessId, WorkerEnvironment.ProtocolVersion));
        _writer.TryWrite(new OutgoingFrame(FrameType.Hello, 0, hello));

        var reading = FrameReader.Start(_input, _maxMessageSize, this, "ProcessPool channel reader");
        if (await Task.WhenAny(_setup.Task, reading).ConfigureAwait(false) != _setup.Task)
        {
            return await EndedAsync(reading).ConfigureAwait(false);
        }

        var setup = await _setup.Task.ConfigureAwait(false);
        IHost host;
        try
        {
            _serializer = CreateSerializer(setup.SerializerType);

            // Up to ChildConcurrency jobs run at once, and CPU-bound ones hold a thread each: without enough
            // threads from the start, the thread pool adds them slowly and jobs wait (measured: 4 CPU-bound
            // jobs on 2 workers ran at 84 % of the ideal speed before this, the in-process baseline at 98 %).
            ThreadPool.GetMinThreads(out var workerThreads, out var completionThreads);
            ThreadPool.SetMinThreads(Math.Max(workerThreads, setup.ChildConcurrency + 2), completionThreads);
            _maxMessageSize = setup.MaxMessageSize;
            _setupHeartbeatTimeoutTicks = setup.HeartbeatTimeout.Ticks;
            _setupInfo = setup;
            host = await buildHost(setup, new ChannelLoggerProvider(_writer)).ConfigureAwait(false);
            _services = host.Services;
            _exceptionHandlers = [.. host.Services.GetServices<IJobExceptionHandler>()];
        }
        catch (Exception exception)
        {
            var error = JsonSerializer.SerializeToUtf8Bytes(RemoteError.From(exception), WireJsonContext.Default.RemoteError);
            _writer.TryWrite(new OutgoingFrame(FrameType.SetupFailed, 0, error));
            _writer.Complete();
            await _writer.Completion.ConfigureAwait(false);
            return 3;
        }

        _writer.TryWrite(new OutgoingFrame(FrameType.Ready, 0, ReadOnlyMemory<byte>.Empty));
        var period = setup.HeartbeatTimeout / 4;
        using var watchdog = new Timer(static state => ((WorkerSession)state!).CheckParent(), this, period, period);
        var ended = await Task.WhenAny(reading, _drained.Task, _abandoned.Task).ConfigureAwait(false);
        if (ended != _drained.Task)
        {
            // The parent is gone (or sent garbage, or went silent): nobody will read results, so stop everything now.
            await _parentGone.CancelAsync().ConfigureAwait(false);
            if (ended == _abandoned.Task)
            {
                await Console.Error.WriteLineAsync($"ProcessPool worker {Environment.ProcessId}: {await _abandoned.Task.ConfigureAwait(false)}; exiting.").ConfigureAwait(false);
                return 5;
            }

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

            return await EndedAsync(reading).ConfigureAwait(false);
        }

        _writer.Complete();
        await _writer.Completion.ConfigureAwait(false);
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await host.StopAsync(stopping.Token).ConfigureAwait(false);
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }

        return 0;
    }

    public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload)
    {
        Volatile.Write(ref _lastHeardFrom, System.Diagnostics.Stopwatch.GetTimestamp());
        switch (type)
        {
            case FrameType.Ping:
                _writer.TryWrite(new OutgoingFrame(FrameType.Pong, 0, ReadOnlyMemory<byte>.Empty));
                break;
            case FrameType.Setup:
                _setup.TrySetResult(WireBinary.DecodeSetup(payload));
                break;
            case FrameType.TraceContext:
                _traceContexts[jobId] = payload.ToArray();
                break;
            case FrameType.Define:
                Define((int)jobId, payload);
                break;
            case FrameType.Invoke:
                Invoke(jobId, payload);
                break;
            case FrameType.InvokeMany:
                InvokeMany(jobId, payload);
                break;
            case FrameType.Cancel:
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

                break;
            case FrameType.Shutdown:
                _draining = true;
                if (_running.IsEmpty)
                {
                    _drained.TrySetResult();
                }

                break;
            default:
                throw new InvalidDataException($"The worker received a frame of unknown type {(byte)type}.");
        }
    }

    /// <summary>
    /// The watchdog for a parent that died without closing the channel (a process that inherited the pipe
    /// keeps it open): its process is gone, or it stopped pinging.
    /// </summary>
    private void CheckParent()
    {
        if (_parentProcessId > 0 && !ParentIsAlive(_parentProcessId))
        {
            _abandoned.TrySetResult($"parent process {_parentProcessId} is gone");
        }

        var silent = System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _lastHeardFrom));
        if (silent > TimeSpan.FromTicks(_setupHeartbeatTimeoutTicks))
        {
            _abandoned.TrySetResult($"the parent was silent for {silent.TotalSeconds:0.#} s");
        }
    }

    private static bool ParentIsAlive(int processId)
    {
        if (OperatingSystem.IsLinux())
        {
            // A look at /proc is far cheaper than a Process object, and this runs every few seconds in idle workers.
            return Directory.Exists($"/proc/{processId}");
        }

        try
        {
            using var parent = System.Diagnostics.Process.GetProcessById(processId);
            return !parent.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<int> EndedAsync(Task reading)
    {
        try
        {
            await reading.ConfigureAwait(false);
            return 0;
        }
        catch (Exception exception)
        {
            await Console.Error.WriteLineAsync($"ProcessPool worker {Environment.ProcessId}: channel failed: {exception.Message}").ConfigureAwait(false);
            return 4;
        }
    }

    private static IJobSerializer CreateSerializer(string typeName)
    {
        var type = Type.GetType(typeName, throwOnError: true)!;
        return (IJobSerializer)(Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"Could not create the serializer '{typeName}'."));
    }

    private void Define(int targetId, ReadOnlySequence<byte> payload)
    {
        var definition = WireBinary.DecodeDefinition(payload);
        try
        {
            _invokers[targetId] = JobInvoker.Create(definition);
        }
        catch (Exception exception)
        {
            // Each job naming this target fails with the reason, instead of the whole worker.
            _brokenTargets[targetId] = exception;
        }
    }

    /// <summary>Registers a job as running (so it can be cancelled); answers it at once when its target is unknown or broken.</summary>
    private bool TryStart(long jobId, int targetId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JobInvoker? invoker, out CancellationTokenSource source)
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

    private void Invoke(long jobId, ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!reader.TryReadLittleEndian(out int targetId))
        {
            throw new InvalidDataException("An invoke frame without a target.");
        }

        if (!TryStart(jobId, targetId, out var invoker, out var source))
        {
            return;
        }

        object?[] arguments;
        try
        {
            arguments = ReadArguments(invoker, ref reader, jobId);
        }
        catch (Exception exception) when (exception is not InvalidDataException)
        {
            Finish(jobId, source, error: new ArgumentException($"The worker could not deserialize the arguments of job '{invoker.Name}': {exception.Message}", exception));
            return;
        }

        _traceContexts.Remove(jobId, out var traceContext);

        // Off the reader loop: a job that computes synchronously must not stall the channel.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Session.RunAsync(state.JobId, state.Invoker, state.Arguments, state.Source, state.TraceContext),
            (Session: this, JobId: jobId, Invoker: invoker, Arguments: arguments, Source: source, TraceContext: traceContext), preferLocal: false);
    }

    private object?[] ReadArguments(JobInvoker invoker, ref SequenceReader<byte> reader, long jobId)
    {
        var arguments = new object?[invoker.SentTypes.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            if (!reader.TryReadLittleEndian(out int length) || reader.Remaining < length)
            {
                throw new InvalidDataException($"The arguments of job '{invoker.Name}' are truncated.");
            }

            arguments[i] = invoker.SentProgressTypes[i] is { } progressType
                ? ProgressToParent.Create(progressType, this, jobId, connected: length > 0)
                : _serializer.Deserialize(reader.UnreadSequence.Slice(0, length), invoker.SentTypes[i]);
            reader.Advance(length);
        }

        return arguments;
    }

    /// <summary>A chunk of a map's items: read here, run one after the other off the reader thread, answered in one frame.</summary>
    private void InvokeMany(long jobId, ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!reader.TryReadLittleEndian(out int targetId) || !reader.TryReadLittleEndian(out int count) || count < 0)
        {
            throw new InvalidDataException("A malformed chunk frame.");
        }

        if (!TryStart(jobId, targetId, out var invoker, out var source))
        {
            return;
        }

        // Jobs of one argument and a result under the default serializer run typed (no argument arrays, no boxing).
        ChunkItems items = invoker.Typed is { } typed && _serializer.GetType() == typeof(JsonJobSerializer)
            ? typed.CreateItems((JsonJobSerializer)_serializer, count)
            : new BoxedChunkItems(invoker, _serializer, (JobInvoker job, ref SequenceReader<byte> item) => ReadArguments(job, ref item, jobId), count);
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadLittleEndian(out int length) || reader.Remaining < length)
            {
                throw new InvalidDataException($"The chunk of job '{invoker.Name}' is truncated.");
            }

            var item = new SequenceReader<byte>(reader.UnreadSequence.Slice(0, length));
            reader.Advance(length);
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
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Session.RunManyAsync(state.JobId, state.Invoker, state.Items, state.Source, state.TraceContext),
            (Session: this, JobId: jobId, Invoker: invoker, Items: items, Source: source, TraceContext: traceContext), preferLocal: false);
    }

    private async Task RunManyAsync(long jobId, JobInvoker invoker, ChunkItems items, CancellationTokenSource source, byte[]? traceContext)
    {
        using var activity = StartExecuteActivity(invoker, traceContext);
        activity?.SetTag("processpool.job.items", items.Count);
        var answers = new PooledBufferWriter();
        var failures = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var at = answers.WrittenCount;
            answers.GetSpan(1 + sizeof(int));
            answers.Advance(1 + sizeof(int)); // status and length, filled in below
            byte status;
            var error = items.Errors[i];
            if (error is null && source.IsCancellationRequested)
            {
                status = 2;
            }
            else if (error is null)
            {
                try
                {
                    await items.RunAsync(i, answers, _services, source.Token).ConfigureAwait(false);
                    status = 0;
                }
                catch (OperationCanceledException) when (source.IsCancellationRequested)
                {
                    status = 2;
                }
                catch (Exception exception)
                {
                    await NotifyExceptionHandlersAsync(invoker, items.Arguments(i), exception).ConfigureAwait(false);
                    error = exception;
                    status = 1;
                }
            }
            else
            {
                status = 1;
            }

            if (status == 1)
            {
                failures++;
                answers.Truncate(at + 1 + sizeof(int));
                var json = JsonSerializer.SerializeToUtf8Bytes(RemoteError.From(error!), WireJsonContext.Default.RemoteError);
                json.CopyTo(answers.GetSpan(json.Length));
                answers.Advance(json.Length);
            }
            else if (status == 2)
            {
                answers.Truncate(at + 1 + sizeof(int));
            }

            answers.WrittenSpan(at, 1)[0] = status;
            BinaryPrimitives.WriteInt32LittleEndian(answers.WrittenSpan(at + 1, sizeof(int)), answers.WrittenCount - at - 1 - sizeof(int));
        }

        if (answers.WrittenCount > _maxMessageSize)
        {
            var size = answers.WrittenCount;
            answers.Dispose();
            var tooLarge = new InvalidOperationException(
                $"The results of a chunk of {items.Count} items of job '{invoker.Name}' are {size} bytes, over the channel's limit of {_maxMessageSize} bytes (MaxMessageSize).");
            EndActivity(activity, "failed", tooLarge);
            Finish(jobId, source, error: tooLarge);
            return;
        }

        EndActivity(activity, failures == 0 ? "success" : "failed", null);
        var (array, length) = answers.Detach();
        SendAnswer(new OutgoingFrame(FrameType.Result, jobId, array.AsMemory(0, length), ReturnToPool: array));
        Finish(jobId, source);
    }

    private async Task RunAsync(long jobId, JobInvoker invoker, object?[] arguments, CancellationTokenSource source, byte[]? traceContext)
    {
        // Ended before the answer goes out, so the worker's span is complete (and exported) when the caller resumes.
        using var activity = StartExecuteActivity(invoker, traceContext);
        object? result;
        try
        {
            result = await invoker.InvokeAsync(arguments, _services, source.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (source.IsCancellationRequested)
        {
            EndActivity(activity, "cancelled", null);
            Finish(jobId, source, canceled: true);
            return;
        }
        catch (Exception exception)
        {
            await NotifyExceptionHandlersAsync(invoker, arguments, exception).ConfigureAwait(false);
            EndActivity(activity, "failed", exception);
            Finish(jobId, source, error: exception);
            return;
        }

        var buffer = new PooledBufferWriter();
        Exception? unsendable = null;
        try
        {
            if (invoker.ResultType != typeof(void))
            {
                _serializer.Serialize(buffer, result, invoker.ResultType);
            }

            if (buffer.WrittenCount > _maxMessageSize)
            {
                unsendable = new InvalidOperationException(
                    $"The result of job '{invoker.Name}' is {buffer.WrittenCount} bytes, over the channel's limit of {_maxMessageSize} bytes (MaxMessageSize).");
            }
        }
        catch (Exception exception)
        {
            unsendable = Unserializable(invoker, exception);
        }

        if (unsendable is not null)
        {
            buffer.Dispose();
            EndActivity(activity, "failed", unsendable);
            Finish(jobId, source, error: unsendable);
            return;
        }

        EndActivity(activity, "success", null);
        var (array, length) = buffer.Detach();
        SendAnswer(new OutgoingFrame(FrameType.Result, jobId, array.AsMemory(0, length), ReturnToPool: array));
        Finish(jobId, source);
    }

    /// <summary>Sends a running job's progress report to the parent, ahead of the job's answer.</summary>
    internal void SendProgress(long jobId, object? value, Type valueType)
    {
        var buffer = new PooledBufferWriter();
        try
        {
            _serializer.Serialize(buffer, value, valueType);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, length) = buffer.Detach();
        _writer.TryWrite(new OutgoingFrame(FrameType.Progress, jobId, array.AsMemory(0, length), ReturnToPool: array));
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

    private static InvalidOperationException Unserializable(JobInvoker invoker, Exception exception) =>
        JobInvoker.Unserializable(invoker.Name, invoker.ResultType, exception);

    private static void EndActivity(Activity? activity, string outcome, Exception? exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(ProcessPoolDiagnostics.Tags.Outcome, outcome);
        if (exception is not null)
        {
            activity.AddException(exception);
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        activity.Stop();
    }

    private static readonly ActivitySource Source = new(ProcessPoolDiagnostics.ActivitySourceName);

    /// <summary>
    /// The worker's span of a job, a child of the caller's (its context came ahead of the job). Recorded when
    /// the worker's host traces <see cref="ProcessPoolDiagnostics.ActivitySourceName"/>; otherwise an
    /// unrecorded activity still carries the trace id and baggage to what the job does.
    /// </summary>
    private Activity? StartExecuteActivity(JobInvoker invoker, byte[]? traceContext)
    {
        if (traceContext is null)
        {
            return Source.HasListeners() ? Tag(Source.StartActivity(ProcessPoolDiagnostics.ExecuteActivityName, ActivityKind.Server)) : null;
        }

        var (traceParent, traceState, baggage) = TraceContext.Decode(traceContext);
        Activity? activity = null;
        if (Source.HasListeners() && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent))
        {
            activity = Source.StartActivity(ProcessPoolDiagnostics.ExecuteActivityName, ActivityKind.Server, parent);
        }

        if (activity is null)
        {
            activity = new Activity(ProcessPoolDiagnostics.ExecuteActivityName);
            activity.SetParentId(traceParent);
            activity.TraceStateString = traceState;
            activity.Start();
        }

        foreach (var (key, value) in baggage.Reverse())
        {
            activity.AddBaggage(key, value);
        }

        return Tag(activity);

        Activity? Tag(Activity? started)
        {
            started?.SetTag(ProcessPoolDiagnostics.Tags.Pool, _setupInfo?.PoolName);
            started?.SetTag(ProcessPoolDiagnostics.Tags.Job, invoker.Name);
            started?.SetTag(ProcessPoolDiagnostics.Tags.WorkerId, _setupInfo?.WorkerId);
            started?.SetTag(ProcessPoolDiagnostics.Tags.WorkerProcessId, Environment.ProcessId);
            if (started is not null)
            {
                started.DisplayName = $"{ProcessPoolDiagnostics.ExecuteActivityName} {invoker.Name}";
            }

            return started;
        }
    }

    private async Task NotifyExceptionHandlersAsync(JobInvoker invoker, object?[] arguments, Exception exception)
    {
        if (_exceptionHandlers.Length == 0)
        {
            return;
        }

        var context = new JobExceptionContext(invoker.Name, exception, arguments);
        foreach (var handler in _exceptionHandlers)
        {
            try
            {
                await handler.OnJobFailedAsync(context, _parentGone.Token).ConfigureAwait(false);
            }
            catch (Exception handlerFailure)
            {
                // The caller gets the job's own exception either way; the handler's is only worth a line on stderr.
                await Console.Error.WriteLineAsync(
                    $"ProcessPool worker {Environment.ProcessId}: exception handler {handlerFailure.GetType()} failed for job '{invoker.Name}': {handlerFailure.Message}").ConfigureAwait(false);
            }
        }
    }

    private void Finish(long jobId, CancellationTokenSource source, Exception? error = null, bool canceled = false)
    {
        if (canceled)
        {
            SendAnswer(new OutgoingFrame(FrameType.Canceled, jobId, ReadOnlyMemory<byte>.Empty));
        }
        else if (error is not null)
        {
            var payload = JsonSerializer.SerializeToUtf8Bytes(RemoteError.From(error), WireJsonContext.Default.RemoteError);
            SendAnswer(new OutgoingFrame(FrameType.Fault, jobId, payload));
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

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
