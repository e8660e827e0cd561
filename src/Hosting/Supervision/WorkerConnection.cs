using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ProcessPools.Channels;
using ProcessPools.Dispatch;
using ProcessPools.Protocol;

namespace ProcessPools.Supervision;

/// <summary>
/// The parent's side of one worker process: launch and handshake, the pump that feeds it jobs from its
/// queue, the in-flight table, and its death. A worker is dead when its process exits or its channel
/// ends or breaks, whichever is seen first; its in-flight jobs then fail at once.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore and token source never allocate wait handles or timers; the pump may still observe them after death.")]
internal sealed partial class WorkerConnection : IFrameHandler
{
    private readonly PoolEngine _pool;
    private JobQueue? _queue;
    private readonly ProcessPoolOptions _options;
    private readonly ILogger _logger;
    private readonly string _token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    private readonly Lock _gate = new();
    private readonly Dictionary<long, PendingJob> _inFlight = [];
    private readonly HashSet<int> _definedTargets = [];
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StandardErrorTail _standardError = new();
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<long, ITimer> _cancellationGrace = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ILogger> _childLoggers = new(StringComparer.Ordinal);
    private KeyValuePair<string, object?>[]? _logScope;
    private ITimer? _heartbeat;
    private long _lastHeardFrom;
    private LaunchedWorker? _launched;
    private WorkerSetup? _pendingSetup;
    private FrameWriter? _writer;
    private int _dispatched;
    private bool _dead;
    private bool _draining;
    private bool _shutdownSent;
    private volatile bool _killedByPool;
    private volatile bool _retiring;
    private long _completed;

    public WorkerConnection(PoolEngine pool, int id, int slot, JobQueue? queue, ProcessPoolOptions options, ILogger logger)
    {
        _pool = pool;
        Id = id;
        Slot = slot;
        _queue = queue;
        _options = options;
        _logger = logger;
        _slots = new SemaphoreSlim(options.ChildConcurrency, options.ChildConcurrency);
        _timeProvider = pool.TimeProvider;
        _lastHeardFrom = _timeProvider.GetTimestamp();
    }

    public int Id { get; }

    /// <summary>The process slot of the pool this worker fills (a replacement takes the same slot); -1 for a spare.</summary>
    public int Slot { get; private set; }

    /// <summary>Whether the worker is dead (or dying).</summary>
    public bool IsDead
    {
        get
        {
            lock (_gate)
            {
                return _dead;
            }
        }
    }

    /// <summary>Gives a ready spare its slot and queue; <see cref="StartPump"/> follows.</summary>
    public void Assign(int slot, JobQueue queue)
    {
        Slot = slot;
        _queue = queue;
    }

    /// <summary>Asks an idle worker (a spare, when the pool closes) to exit.</summary>
    public void ShutDownIdle() => BeginShutdown();

    public int ProcessId { get; private set; }

    /// <summary>The exit code once the process is gone (on Unix, 128 + N when killed by signal N).</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Completes when the worker is gone, for whatever reason.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Whether the worker left after being asked to (recycling or close), rather than dying.</summary>
    public bool ExitedAsAsked { get; private set; }

    /// <summary>When the worker became ready; <see langword="null"/> while it starts.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>Jobs the worker answered.</summary>
    public long CompletedCount => Interlocked.Read(ref _completed);

    /// <summary>The worker's state, for status snapshots.</summary>
    public WorkerState State => _exited.Task.IsCompleted || _dead ? WorkerState.Exited
        : _retiring || _draining ? WorkerState.Draining
        : StartedAt is null ? WorkerState.Starting
        : _queue is null ? WorkerState.Spare
        : WorkerState.Ready;

    public int InFlightCount
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Launches the process and waits until its host is built and it takes jobs.</summary>
    public async Task StartAsync(WorkerLauncher launcher, WorkerSetup setup, CancellationToken cancellationToken)
    {
        _launched = launcher.Launch(
            _token,
            _options.EnvironmentVariables,
            setup.ContentRootPath ?? Environment.CurrentDirectory,
            OnStandardOutput,
            OnStandardError,
            OnProcessExited);
        ProcessId = _launched.Process.Id;
        _writer = new FrameWriter(_launched.ToChild);
        _ = _writer.Completion.ContinueWith(
            static (task, state) => ((WorkerConnection)state!).Die(task.Exception?.GetBaseException().Message is { } message ? $"stopped taking frames ({message})" : "closed its channel"),
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _pendingSetup = setup;
        _ = ReadAsync();

        try
        {
            await _ready.Task.WaitAsync(_options.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Die($"did not become ready within {_options.StartTimeout.TotalSeconds:0.###} s (StartTimeout)");
            await _exited.Task.ConfigureAwait(false);
            throw new ProcessPoolException(
                $"Worker process {ProcessId} of pool '{_pool.Name}' did not become ready within {_options.StartTimeout} (StartTimeout).{FormatTail()}");
        }
        catch (OperationCanceledException)
        {
            Die("was cancelled while starting");
            throw;
        }

        Log.WorkerStarted(_logger, _pool.Name, Id, ProcessId);
        StartedAt = _timeProvider.GetUtcNow();
        _pool.Telemetry.OnWorkerStarted();
        _heartbeat = _timeProvider.CreateTimer(static state => ((WorkerConnection)state!).OnHeartbeat(), this, _options.HeartbeatInterval, _options.HeartbeatInterval);
    }

    /// <summary>
    /// Declares the worker dead when it was silent for longer than the heartbeat timeout (a hung process,
    /// or a channel that a sibling's inherited handle keeps open after a crash), otherwise pings it.
    /// </summary>
    private void OnHeartbeat()
    {
        var silent = _timeProvider.GetElapsedTime(Volatile.Read(ref _lastHeardFrom));
        if (silent > _options.HeartbeatTimeout)
        {
            _killedByPool = true;
            Die($"was silent for {silent.TotalSeconds:0.#} s (HeartbeatTimeout {_options.HeartbeatTimeout.TotalSeconds:0.###} s) and was killed");
            return;
        }

        _writer?.TryWrite(new OutgoingFrame(FrameType.Ping, 0, ReadOnlyMemory<byte>.Empty));
    }

    /// <summary>Starts feeding the worker from its queue.</summary>
    public void StartPump() => _ = Task.Run(PumpAsync);

    /// <summary>
    /// Passes a cancellation (the caller's, or a timeout) of a running job to the child; kills the worker when
    /// the job is still running after the grace period.
    /// </summary>
    public void CancelRunning(PendingJob job)
    {
        lock (_gate)
        {
            if (_dead || !_inFlight.ContainsKey(job.Id) || _cancellationGrace.ContainsKey(job.Id))
            {
                return;
            }

            _cancellationGrace[job.Id] = _timeProvider.CreateTimer(
                static state =>
                {
                    var (worker, job) = ((WorkerConnection, PendingJob))state!;
                    worker.OnCancellationIgnored(job);
                },
                (this, job),
                _options.CancellationGracePeriod,
                Timeout.InfiniteTimeSpan);
        }

        _writer?.TryWrite(new OutgoingFrame(FrameType.Cancel, job.Id, ReadOnlyMemory<byte>.Empty));
    }

    private void OnCancellationIgnored(PendingJob job)
    {
        bool running;
        lock (_gate)
        {
            running = _inFlight.ContainsKey(job.Id);
        }

        if (running)
        {
            _killedByPool = true;
            Die($"was killed: job '{job.Target.Name}' ignored its cancellation for {_options.CancellationGracePeriod.TotalSeconds:0.###} s (CancellationGracePeriod)");
        }
    }

    /// <summary>Kills the process; its jobs fail as lost.</summary>
    public void Kill(string reason)
    {
        _killedByPool = true;
        Die(reason);
    }

    public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload)
    {
        Volatile.Write(ref _lastHeardFrom, _timeProvider.GetTimestamp());
        switch (type)
        {
            case FrameType.Result:
                Take(jobId)?.Complete(payload, _options.Serializer);
                break;
            case FrameType.Pong:
                break;
            case FrameType.Progress:
                PendingJob? reporting;
                lock (_gate)
                {
                    _inFlight.TryGetValue(jobId, out reporting);
                }

                try
                {
                    reporting?.ReportProgress(payload, _options.Serializer);
                }
                catch (Exception exception)
                {
                    // The caller's sink (or a value it cannot take) must not break the channel.
                    Log.ProgressFailed(_logger, exception, _pool.Name, reporting!.Target.Name);
                }

                break;
            case FrameType.Log:
                var logReader = new Utf8JsonReader(payload);
                if (JsonSerializer.Deserialize(ref logReader, WireJsonContext.Default.LogEntry) is { } entry)
                {
                    WriteChildLog(entry);
                }

                break;
            case FrameType.Fault:
                var reader = new Utf8JsonReader(payload);
                var error = JsonSerializer.Deserialize(ref reader, WireJsonContext.Default.RemoteError)
                    ?? throw new InvalidDataException("An empty fault frame.");
                if (Take(jobId) is { } failed)
                {
                    failed.Fail(error.ToException(failed.Target.Name), answeredByWorker: true);
                }

                break;
            case FrameType.Canceled:
                Take(jobId)?.Fail(new OperationCanceledException("The job was cancelled in its worker process."), answeredByWorker: true);
                break;
            case FrameType.Hello:
                OnHello(payload);
                break;
            case FrameType.Ready:
                _ready.TrySetResult();
                break;
            case FrameType.SetupFailed:
                var setupReader = new Utf8JsonReader(payload);
                var setupError = JsonSerializer.Deserialize(ref setupReader, WireJsonContext.Default.RemoteError);
                _ready.TrySetException(new ProcessPoolException(
                    $"Worker process {ProcessId} of pool '{_pool.Name}' failed to start: {(setupError?.TypeHierarchy is [var first, ..] ? first : "an exception")}: {setupError?.Message}",
                    setupError?.ToException("worker start-up")));
                break;
            default:
                throw new InvalidDataException($"The parent received a frame of unknown type {(byte)type}.");
        }
    }

    /// <summary>Writes a worker's log entry into the application's logging, with the worker in scope.</summary>
    private void WriteChildLog(LogEntry entry)
    {
        var logger = _childLoggers.GetOrAdd(entry.Category, static (category, factory) => factory.CreateLogger(category), _pool.LoggerFactory);
        var level = (LogLevel)Math.Clamp(entry.Level, 0, 5);
        if (!logger.IsEnabled(level))
        {
            return;
        }

        _logScope ??= [new("ProcessPool.Pool", _pool.Name), new("ProcessPool.WorkerId", Id), new("ProcessPool.ProcessId", ProcessId)];
        using (logger.BeginScope(_logScope))
        {
            var message = entry.Exception is null ? entry.Message : $"{entry.Message}{Environment.NewLine}{entry.Exception}";
            logger.Log(level, new EventId(entry.EventId, entry.EventName), message, null, static (text, _) => text);
        }
    }

    private void OnHello(ReadOnlySequence<byte> payload)
    {
        var hello = WireBinary.DecodeHello(payload);
        if (!CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(hello.Token), System.Text.Encoding.ASCII.GetBytes(_token)))
        {
            throw new InvalidDataException("The worker's hello did not carry this worker's token.");
        }

        if (hello.ProtocolVersion != WorkerEnvironment.ProtocolVersion)
        {
            throw new InvalidDataException($"The worker speaks protocol {hello.ProtocolVersion}, the parent {WorkerEnvironment.ProtocolVersion}: mismatched ProcessPool builds.");
        }

        var setup = WireBinary.Encode(_pendingSetup!);
        _writer!.TryWrite(new OutgoingFrame(FrameType.Setup, 0, setup));
    }

    private async Task ReadAsync()
    {
        string reason;
        var fromChild = _launched!.FromChild;
        try
        {
            await FrameReader.Start(fromChild, _options.MaxMessageSize, this, $"ProcessPool '{_pool.Name}' worker {Id} reader").ConfigureAwait(false);
            reason = "closed its channel";
        }
        catch (Exception exception)
        {
            reason = $"broke its channel ({exception.Message})";
        }

        Die(reason);
        await fromChild.DisposeAsync().ConfigureAwait(false); // the read loop is over: nothing blocks on it any more
    }

    private async Task PumpAsync()
    {
        var cancellation = _stop.Token;
        var queue = _queue!;
        try
        {
            while (true)
            {
                if (_options.MaxTasksPerChild > 0 && _dispatched >= _options.MaxTasksPerChild)
                {
                    // Recycling: a fresh worker takes this slot now, while this one finishes what it has.
                    _retiring = true;
                    _pool.OnWorkerRetiring(this);
                    BeginShutdown();
                    return;
                }

                await _slots.WaitAsync(cancellation).ConfigureAwait(false);
                PendingJob job;
                do
                {
                    job = await queue.DequeueAsync(cancellation).ConfigureAwait(false);
                }
                while (!job.TryDispatch());

                if (!Track(job))
                {
                    job.ReturnToQueue();
                    _pool.Requeue(job, queue);
                    return;
                }

                _dispatched++;
                Send(job);

                // Take what else is ready now, so a burst of jobs goes out in one write.
                for (var burst = 0; burst < MaxBurst && (_options.MaxTasksPerChild == 0 || _dispatched < _options.MaxTasksPerChild); burst++)
                {
                    if (!_slots.Wait(0, CancellationToken.None))
                    {
                        break;
                    }

                    if (!TryTakeReady(out var next))
                    {
                        _slots.Release();
                        break;
                    }

                    if (!Track(next))
                    {
                        next.ReturnToQueue();
                        _pool.Requeue(next, queue);
                        _writer!.Flush();
                        return;
                    }

                    _dispatched++;
                    Send(next);
                }

                _writer!.Flush();
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The worker died; its in-flight jobs were failed there.
        }
        catch (ChannelClosedException)
        {
            // The pool is closing and the queue is empty: leave once the running jobs are done.
            BeginShutdown();
        }
    }

    private const int MaxBurst = 256;

    private bool TryTakeReady(out PendingJob job)
    {
        while (_queue!.TryDequeue(out job))
        {
            if (job.TryDispatch())
            {
                return true;
            }
        }

        return false;
    }

    private bool Track(PendingJob job)
    {
        lock (_gate)
        {
            if (_dead)
            {
                return false;
            }

            _inFlight.Add(job.Id, job);
            job.Worker = this;
            job.Attempts++;
        }

        _queue!.AddInFlight(1);
        return true;
    }

    /// <summary>Queues the job's frames; the caller flushes the writer.</summary>
    private void Send(PendingJob job)
    {
        var target = job.Target;
        if (_definedTargets.Add(target.Id))
        {
            var definition = WireBinary.Encode(JobDefinition.From(target));
            _writer!.Post(new OutgoingFrame(FrameType.Define, target.Id, definition));
        }

        _pool.Telemetry.OnDispatched(job, this);
        if (TraceContext.Encode(job.TraceParent) is { } context)
        {
            _writer!.Post(new OutgoingFrame(FrameType.TraceContext, job.Id, context));
        }

        _writer!.Post(new OutgoingFrame(job.InvokeFrame, job.Id, job.Arguments, Prefix: target.Id));
        job.DispatchNotice?.TrySetResult();
        if (job.IsFinished)
        {
            // Cancelled or timed out while it was being taken: its canceller may not have seen this worker.
            CancelRunning(job);
        }
    }

    private PendingJob? Take(long jobId)
    {
        PendingJob? job;
        bool shutdown;
        lock (_gate)
        {
            if (!_inFlight.Remove(jobId, out job))
            {
                return null;
            }

            if (_cancellationGrace.Remove(jobId, out var grace))
            {
                grace.Dispose();
            }

            shutdown = _draining && _inFlight.Count == 0 && !_shutdownSent;
            _shutdownSent |= shutdown;
        }

        _queue!.AddInFlight(-1);
        Interlocked.Increment(ref _completed);
        _slots.Release();
        _pool.CompleteDrainedQueues();
        if (shutdown)
        {
            _writer!.TryWrite(new OutgoingFrame(FrameType.Shutdown, 0, ReadOnlyMemory<byte>.Empty));
        }

        return job;
    }

    /// <summary>Takes no more jobs; asks the child to exit once its running jobs are done.</summary>
    private void BeginShutdown()
    {
        bool now;
        lock (_gate)
        {
            _draining = true;
            now = _inFlight.Count == 0 && !_shutdownSent && !_dead;
            _shutdownSent |= now;
        }

        if (now)
        {
            _writer!.TryWrite(new OutgoingFrame(FrameType.Shutdown, 0, ReadOnlyMemory<byte>.Empty));
        }
    }

    private void OnProcessExited(object? sender, EventArgs e) => Die("exited");

    private void Die(string reason)
    {
        PendingJob[] lost;
        bool asked;
        lock (_gate)
        {
            if (_dead)
            {
                return;
            }

            _dead = true;
            asked = _shutdownSent && _inFlight.Count == 0;
            lost = [.. _inFlight.Values];
            _inFlight.Clear();
            foreach (var grace in _cancellationGrace.Values)
            {
                grace.Dispose();
            }

            _cancellationGrace.Clear();
        }

        _heartbeat?.Dispose();

        ExitedAsAsked = asked;
        _stop.Cancel();
        _ = FinishDeathAsync(reason, lost, asked);
    }

    private async Task FinishDeathAsync(string reason, PendingJob[] lost, bool asked)
    {
        var process = _launched?.Process;
        int? exitCode = null;
        if (process is not null)
        {
            try
            {
                if (asked)
                {
                    // It was asked to leave and is stopping its host: give it the time to do so.
                    using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await process.WaitForExitAsync(stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                // The exit code, and the last stderr lines: both arrive shortly after the exit itself.
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                exitCode = process.ExitCode;
            }
            catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
                // Never started, or the exit is not observable; report what we know.
            }

            await _standardError.Ended.WaitAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        ExitCode = exitCode;
        _pool.Telemetry.OnWorkerExited(asked ? (_retiring ? "recycle" : "shutdown") : _killedByPool ? "killed" : "crash");
        var tail = _standardError.Snapshot();
        if (lost.Length > 0 || !asked)
        {
            Log.WorkerLost(_logger, _pool.Name, Id, ProcessId, reason, exitCode, lost.Length);
        }
        else
        {
            Log.WorkerExited(_logger, _pool.Name, Id, ProcessId);
        }

        foreach (var job in lost)
        {
            if (!_pool.TryRetry(job))
            {
                job.Fail(new WorkerLostException(job.Target.Name, ProcessId, exitCode, job.Attempts > 1 ? $"{reason} (attempt {job.Attempts})" : reason, tail));
            }
        }

        // Counted as running until here, so a closing pool keeps their queue open for the retries above.
        _queue?.AddInFlight(-lost.Length);
        _pool.CompleteDrainedQueues();

        _ready.TrySetException(new ProcessPoolException(
            $"Worker process {ProcessId} of pool '{_pool.Name}' {reason} before it was ready{(exitCode is { } code ? $" (exit code {code})" : string.Empty)}.{FormatTail(tail)}"));
        _writer?.Complete();
        if (_launched is not null)
        {
            await _launched.ToChild.DisposeAsync().ConfigureAwait(false);

            // The incoming pipe is disposed by the read loop when it ends: on Linux, disposing a pipe stream
            // under a blocked read waits for that read.
            _launched.Process.Dispose();
        }

        _exited.TrySetResult();
        _pool.OnWorkerExited(this);
    }

    private string FormatTail(IReadOnlyList<string>? tail = null)
    {
        tail ??= _standardError.Snapshot();
        return tail.Count == 0 ? string.Empty : $"{Environment.NewLine}Last lines of its standard error:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
    }

    private void OnStandardOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            Log.WorkerOutput(_logger, _pool.Name, Id, line);
        }
    }

    private void OnStandardError(object sender, DataReceivedEventArgs e)
    {
        _standardError.Add(e.Data);
        if (e.Data is { } line)
        {
            Log.WorkerErrorOutput(_logger, _pool.Name, Id, line);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) is ready.")]
        public static partial void WorkerStarted(ILogger logger, string pool, int workerId, int processId);

        [LoggerMessage(2, LogLevel.Debug, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) exited as asked.")]
        public static partial void WorkerExited(ILogger logger, string pool, int workerId, int processId);

        [LoggerMessage(3, LogLevel.Warning, "Pool '{Pool}': worker {WorkerId} (pid {ProcessId}) {Reason} (exit code {ExitCode}); {LostJobs} running jobs were lost.")]
        public static partial void WorkerLost(ILogger logger, string pool, int workerId, int processId, string reason, int? exitCode, int lostJobs);

        [LoggerMessage(4, LogLevel.Information, "Pool '{Pool}' worker {WorkerId}: {Line}")]
        public static partial void WorkerOutput(ILogger logger, string pool, int workerId, string line);

        [LoggerMessage(5, LogLevel.Warning, "Pool '{Pool}' worker {WorkerId} (stderr): {Line}")]
        public static partial void WorkerErrorOutput(ILogger logger, string pool, int workerId, string line);

        [LoggerMessage(6, LogLevel.Warning, "Pool '{Pool}': a progress report of job '{Job}' could not be delivered.")]
        public static partial void ProgressFailed(ILogger logger, Exception exception, string pool, string job);
    }
}
