using System.Buffers;
using System.Security.Cryptography;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Telemetry;

namespace ProcessPools.Supervision;

/// <summary>
/// The parent's side of one worker process: launch and handshake, its channel, its heartbeat, its logs, and
/// its death. A worker is dead when its process exits or its channel ends or breaks, whichever is seen first;
/// the jobs it runs (<see cref="Jobs"/>, plugged in by dispatch) are then answered at once.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The heartbeat is disposed when the worker dies, which every worker does.")]
internal sealed class WorkerConnection : IFrameHandler
{
    /// <summary>How long a worker asked to leave may take to stop its host before it is killed.</summary>
    internal static readonly TimeSpan GracefulExitTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long after a death the exit code may take to become observable.</summary>
    internal static readonly TimeSpan ExitCodeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long after a death the last standard error lines may take to arrive.</summary>
    internal static readonly TimeSpan StandardErrorTailTimeout = TimeSpan.FromMilliseconds(500);

    private readonly SupervisorContext _context;
    private readonly WorkerSlots _slots;
    private readonly string _token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WorkerLogRelay _logs;
    private readonly HeartbeatMonitor _heartbeat;
    private LaunchedWorker? _launched;
    private int _helloReceived;
    private Task _readLoop = Task.CompletedTask;
    private WorkerSetup? _pendingSetup;
    private FrameWriter? _writer;
    private SegmentChannel? _sharedMemory;
    private bool _dead;
    private bool _shutdownSent;
    private volatile bool _draining;
    private volatile bool _retiring;
    private volatile bool _killedByPool;
    private volatile bool _startTimedOut;

    public WorkerConnection(SupervisorContext context, WorkerSlots slots, int id, int slot)
    {
        _context = context;
        _slots = slots;
        Id = id;
        Slot = slot;
        _logs = new WorkerLogRelay(context, id);
        _heartbeat = new HeartbeatMonitor(
            context.TimeProvider,
            context.Options.HeartbeatInterval,
            context.Options.WaitForDebugger is null ? context.Options.HeartbeatTimeout : TimeSpan.MaxValue, // a breakpoint silences a worker
            ping: () => _writer?.TryWrite(new OutgoingFrame(FrameType.Ping, 0, ReadOnlyMemory<byte>.Empty)),
            silent: silent => Kill($"was silent for {silent.TotalSeconds:0.#} s (HeartbeatTimeout {context.Options.HeartbeatTimeout.TotalSeconds:0.###} s) and was killed"));
    }

    public int Id { get; }

    /// <summary>The process slot of the pool this worker fills (a replacement takes the same slot); -1 for a spare.</summary>
    public int Slot { get; set; }

    /// <summary>The jobs this worker runs, once dispatch has given it a queue; <see langword="null"/> for a spare.</summary>
    public IWorkerJobs? Jobs { get; set; }

    /// <summary>The queue the worker takes jobs from, for its status; <see langword="null"/> for a spare.</summary>
    public int? Queue { get; set; }

    /// <summary>The channel's writer: frames for the worker.</summary>
    public FrameWriter Writer => _writer ?? throw new InvalidOperationException("The worker was not launched.");

    public int ProcessId { get; private set; }

    /// <summary>The exit code once the process is gone (on Unix, 128 + N when killed by signal N).</summary>
    public int? ExitCode { get; private set; }

    /// <summary>Whether and why the pool itself ended this worker: a fact, whatever exit code the OS reports.</summary>
    public PoolEnded EndedByPool { get; private set; }

    /// <summary>Completes when the worker is gone, for whatever reason.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Whether the worker left after being asked to (recycling or close), rather than dying.</summary>
    public bool ExitedAsAsked { get; private set; }

    /// <summary>The worker's own start-up exception (type and message), when its setup failed.</summary>
    public string? SetupFailure { get; private set; }

    /// <summary>When the worker became ready; <see langword="null"/> while it starts.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>Why the worker ended, once it has: its death's reason, or that it left as asked.</summary>
    public string? ExitReason { get; private set; }

    /// <summary>When the worker last sent a frame; null before it is ready.</summary>
    public DateTimeOffset? LastHeardFrom => StartedAt is null ? null : _context.TimeProvider.GetUtcNow() - _context.TimeProvider.GetElapsedTime(_heartbeat.LastHeardFrom);

    /// <summary>The last lines it wrote to standard error.</summary>
    public IReadOnlyList<string> StandardErrorTail() => _logs.StandardError.Snapshot();

    /// <summary>The last lines it wrote to standard output and error, newest first.</summary>
    public IReadOnlyList<Operations.WorkerOutputLine> RecentOutput() => _logs.Recent.NewestFirst();

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

    /// <summary>The worker's state, for status snapshots.</summary>
    public WorkerState State => _exited.Task.IsCompleted || IsDead ? WorkerState.Exited
        : _retiring || _draining ? WorkerState.Draining
        : StartedAt is null ? WorkerState.Starting
        : Jobs is null ? WorkerState.Spare
        : WorkerState.Ready;

    /// <summary>Launches the process and waits until its host is built and it takes jobs.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = _context.Options;
        var setup = _context.Setup with { WorkerId = Id };
        var variables = WorkerVariables.For(_context, Id, setup);
        if (options.SharedMemoryThreshold is { } threshold)
        {
            var plan = SharedMemoryPlan.ForNewChannel(threshold);
            _sharedMemory = new SegmentChannel(plan, SharedMemoryPlan.Parent, (bytes, exception) => _context.WarnSharedMemoryUnavailable(bytes, plan.Store == SegmentStore.Named ? "named sections" : plan.Location, exception.Message));
            variables[WorkerEnvironment.SharedMemory] = _sharedMemory.Plan.Format();
        }

        _launched = _context.Launcher.Launch(
            options.MaxMessageSize,
            variables,
            setup.ContentRootPath ?? Environment.CurrentDirectory,
            _logs.OnStandardOutput,
            _logs.OnStandardError,
            (_, _) => Die("exited"));
        ProcessId = _launched.Process.Id;
        _logs.ProcessId = ProcessId;
        _writer = new FrameWriter(_launched.ToChild, _sharedMemory?.Own, _launched.ToChildCapacity);

        // The token goes through the channel, not the environment: only a reader of this pipe learns it.
        _writer.TryWrite(new OutgoingFrame(FrameType.Challenge, 0, System.Text.Encoding.ASCII.GetBytes(_token)));
        _ = _writer.Completion.ContinueWith(
            static (task, state) => ((WorkerConnection)state!).Die(task.Exception?.GetBaseException().Message is { } message ? $"stopped taking frames ({message})" : "closed its channel"),
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _ = ReadAsync(setup);
        if (options.WaitForDebugger is { } debuggerWait)
        {
            Log.WorkerWaitsForDebugger(_context.Logger, _context.PoolName, Id, ProcessId, debuggerWait.TotalSeconds);
        }

        try
        {
            await _ready.Task.WaitAsync(options.StartTimeout + (options.WaitForDebugger ?? TimeSpan.Zero), _context.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _startTimedOut = true;
            Die($"did not become ready within {options.StartTimeout.TotalSeconds:0.###} s (StartTimeout)");
            await _exited.Task.ConfigureAwait(false);
            throw new ProcessPoolException(
                $"Worker process {ProcessId} of pool '{_context.PoolName}' did not become ready within {options.StartTimeout} (StartTimeout).{FormatTail(_logs.StandardError.Snapshot())}");
        }
        catch (OperationCanceledException)
        {
            Die("was cancelled while starting");
            throw;
        }

        if ((_launched.ContainmentFailure ?? _launched.Containment.Confirm()) is { } uncontained)
        {
            _context.WarnUncontained(ProcessId, uncontained);
        }

        Log.WorkerStarted(_context.Logger, _context.PoolName, Id, ProcessId);
        StartedAt = _context.TimeProvider.GetUtcNow();
        _context.Telemetry.OnWorkerStarted();
        _heartbeat.Start();
    }

    /// <summary>The worker takes no more jobs and finishes what it has (recycling, or the pool closing).</summary>
    public void MarkDraining(bool retiring)
    {
        _retiring |= retiring;
        _draining = true;
    }

    /// <summary>Asks the worker to exit once its running jobs are done (sent once; the caller knows none runs).</summary>
    public void RequestShutdown()
    {
        lock (_gate)
        {
            if (_shutdownSent || _dead)
            {
                return;
            }

            _shutdownSent = true;
        }

        _writer?.TryWrite(new OutgoingFrame(FrameType.Shutdown, 0, ReadOnlyMemory<byte>.Empty));
    }

    /// <summary>Kills the process; its jobs fail as lost.</summary>
    public void Kill(string reason)
    {
        _killedByPool = true;
        Die(reason);
    }

    public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload)
    {
        _heartbeat.Heard();
        switch (type)
        {
            case FrameType.Result or FrameType.Fault or FrameType.Canceled or FrameType.Progress:
                (Jobs ?? throw new InvalidDataException($"The worker sent a {type} frame before it was given any job.")).OnJobFrame(type, jobId, payload);
                break;
            case FrameType.Pong:
                break;
            case FrameType.Log:
                _logs.Write(LogPayload.Decode(payload));
                break;
            case FrameType.Hello:
                OnHello(payload);
                break;
            case FrameType.Ready:
                if (Volatile.Read(ref _helloReceived) == 0 || !_ready.TrySetResult())
                {
                    throw new InvalidDataException("The worker said it was ready out of turn.");
                }

                break;
            case FrameType.SetupFailed when Volatile.Read(ref _helloReceived) == 0 || _ready.Task.IsCompleted:
                throw new InvalidDataException("The worker reported a failed setup out of turn.");
            case FrameType.SetupFailed:
                var error = FaultPayload.Decode(payload);
                SetupFailure = $"{(error.TypeHierarchy is [var remoteType, ..] ? remoteType : "an exception")}: {error.Message}";
                _ready.TrySetException(new ProcessPoolException(
                    $"Worker process {ProcessId} of pool '{_context.PoolName}' failed to start: {(error.TypeHierarchy is [var first, ..] ? first : "an exception")}: {error.Message}",
                    error.ToException("worker start-up")));
                break;
            default:
                throw new InvalidDataException($"The parent received a frame of unknown type {(byte)type}.");
        }
    }

    private void OnHello(ReadOnlySequence<byte> payload)
    {
        if (Interlocked.Exchange(ref _helloReceived, 1) != 0)
        {
            throw new InvalidDataException("The worker sent a second hello.");
        }

        var hello = HelloPayload.Decode(payload);
        if (!CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(hello.Token), System.Text.Encoding.ASCII.GetBytes(_token)))
        {
            throw new InvalidDataException("The worker's hello did not carry this worker's token.");
        }

        if (hello.ProtocolVersion != WorkerEnvironment.ProtocolVersion)
        {
            throw new InvalidDataException($"The worker speaks protocol {hello.ProtocolVersion}, the parent {WorkerEnvironment.ProtocolVersion}: mismatched ProcessPool builds.");
        }

        _writer!.TryWrite(new OutgoingFrame(FrameType.Setup, 0, SetupPayload.Encode(_pendingSetup!)));
    }

    private async Task ReadAsync(WorkerSetup setup)
    {
        _pendingSetup = setup;
        string reason;
        var fromChild = _launched!.FromChild;
        try
        {
            var handler = _sharedMemory?.HandlerFor(this, _writer!, _context.Options.MaxMessageSize) ?? this;
            _readLoop = FrameReader.Start(fromChild, _context.Options.MaxMessageSize, handler, $"ProcessPool '{_context.PoolName}' worker {Id} reader", _launched.FromChildCapacity);
            await _readLoop.ConfigureAwait(false);
            reason = "closed its channel";
        }
        catch (Exception exception)
        {
            reason = $"broke its channel ({exception.Message})";
        }

        Die(reason);
        await fromChild.DisposeAsync().ConfigureAwait(false); // the read loop is over: nothing blocks on it any more
    }

    private void Die(string reason)
    {
        bool shutdownSent;
        lock (_gate)
        {
            if (_dead)
            {
                return;
            }

            _dead = true;
            shutdownSent = _shutdownSent;
        }

        // The jobs stop first: none is taken from here on, and the ones running are answered below.
        var lost = Jobs?.OnDying() ?? 0;
        _heartbeat.Dispose();
        var asked = shutdownSent && lost == 0;
        ExitedAsAsked = asked;
        _ = FinishDeathAsync(reason, lost, asked);
    }

    private async Task FinishDeathAsync(string reason, int lost, bool asked)
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
                    using var stopping = new CancellationTokenSource(GracefulExitTimeout, _context.TimeProvider);
                    await process.WaitForExitAsync(stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                // The exit code, and the last stderr lines: both arrive shortly after the exit itself.
                using var grace = new CancellationTokenSource(ExitCodeTimeout, _context.TimeProvider);
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                exitCode = process.ExitCode;
            }
            catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
                // Never started, or the exit is not observable; report what we know.
            }

            // What its jobs started goes with it: its process group, or its Job Object.
            _launched!.Containment.EndRest();

            await _logs.StandardError.Ended.WaitAsync(StandardErrorTailTimeout, _context.TimeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

            // What the worker wrote before it exited is still in the pipe: a setup failure's own exception
            // must win over the generic "exited before it was ready" (seen: an initializer's exception lost
            // to the exit in 10 of 10 cold starts without console logging).
            if (!_ready.Task.IsCompleted)
            {
                await _readLoop.WaitAsync(ExitCodeTimeout, _context.TimeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        ExitCode = exitCode;
        EndedByPool = _startTimedOut ? PoolEnded.StartTimeout : _killedByPool ? PoolEnded.Killed : asked ? PoolEnded.Asked : PoolEnded.No;
        if (EndedByPool == PoolEnded.No && exitCode is { } exited)
        {
            reason = $"{reason} ({ExitCodes.Describe(exited, HostPlatform.Current)})"; // what the code says, in words, where the pool did not end it
        }

        // Where the pool ended it, its reason says why and not the code (its own kill's): the code is added here.
        ExitReason = asked ? (_retiring ? "recycled: exited as asked" : "exited as asked") : EndedByPool != PoolEnded.No && exitCode is { } killed ? $"{reason} (exit code {killed})" : reason;
        _context.Telemetry.OnWorkerExited(asked ? (_retiring ? "recycle" : "shutdown") : _killedByPool ? "killed" : "crash");
        var tail = _logs.StandardError.Snapshot();
        if (lost > 0 || !asked)
        {
            Log.WorkerLost(_context.Logger, _context.PoolName, Id, ProcessId, reason, exitCode, lost);
        }
        else
        {
            Log.WorkerExited(_context.Logger, _context.PoolName, Id, ProcessId);
        }

        Jobs?.OnDied(new WorkerDeath(ProcessId, exitCode, reason, tail));

        _ready.TrySetException(new ProcessPoolException(exitCode == WorkerExitCode.EntryPointNotHandedOver
            ? $"Worker process {ProcessId} of pool '{_context.PoolName}' is this application relaunched as its worker (LaunchMode {_context.Launcher.Mode}), " +
              $"and its Main did not hand over to the worker. Make this the first statement of Main: {WorkerLauncher.EntryPointHook} " +
              "(with top-level statements, end the program with 'return 0;')."
            : $"Worker process {ProcessId} of pool '{_context.PoolName}' {reason} before it was ready{(exitCode is { } code ? $" (exit code {code})" : string.Empty)}.{FormatTail(tail)}"));
        _writer?.Complete();
        if (_launched is not null)
        {
            await _launched.ToChild.DisposeAsync().ConfigureAwait(false);
            _launched.ToChildCapacity?.Dispose();
            _launched.FromChildCapacity?.Dispose();

            // The incoming pipe is disposed by the read loop when it ends: on Linux, disposing a pipe stream
            // under a blocked read waits for that read.
            _launched.Process.Dispose();
        }

        if (_sharedMemory is not null)
        {
            // The worker is gone and its frames are read: its segments and ours are nobody's now.
            await _readLoop.WaitAsync(ExitCodeTimeout, _context.TimeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _sharedMemory.Dispose();
        }

        _exited.TrySetResult();
        _slots.OnWorkerExited(this);
    }

    private static string FormatTail(IReadOnlyList<string> tail) =>
        tail.Count == 0 ? string.Empty : $"{Environment.NewLine}Last lines of its standard error:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
}
