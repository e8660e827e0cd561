using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessPools.Jobs;
using ProcessPools.Options;
using ProcessPools.Supervision;
using ProcessPools.Telemetry;
using ProcessPools.Transport;

namespace ProcessPools.Dispatch;

/// <summary>
/// The pool: a facade over its worker slots (<see cref="WorkerSlots"/>: start, spares, replacement), its job
/// admission (<see cref="JobAdmission"/>: queues, placement, backpressure, retries), the argument writer and
/// the job registry. Independent of Microsoft.Extensions.Hosting; the hosted service and
/// <see cref="ProcessPool.StartAsync(Action{ProcessPoolOptions}?, CancellationToken)"/> wrap it.
/// </summary>
internal sealed class PoolEngine : IProcessPoolOwner, ISerializedJobInvoker, IWorkerSlotsOwner, IPoolGauges
{
    private readonly ProcessPoolOptions _options;
    private readonly PoolLifecycle _lifecycle = new();
    private readonly SupervisorContext _context;
    private readonly WorkerSlots _slots;
    private readonly JobRegistry _registry;
    private readonly ReadBackCheck _readBack;
    private readonly PoolTelemetry _telemetry;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly string _display;
    private readonly Lock _gate = new();
    private Task? _closing;
    private IDisposable? _hotReload;

    /// <summary>Creates a pool (not started yet) from validated options and its workers' registrations.</summary>
    /// <param name="name">The pool's name.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="registrations">What the workers add to their hosts; none when <see langword="null"/>.</param>
    /// <param name="environment">The parent's host environment, whose content root and environment the workers share.</param>
    /// <param name="loggerFactory">The parent's logging.</param>
    /// <param name="timeProvider">The clock for heartbeats, grace periods, timeouts and back-off.</param>
    /// <param name="meterFactory">Creates the pool's meter; without one (no host), the pool owns a meter of its own.</param>
    public PoolEngine(
        string name,
        ProcessPoolOptions options,
        WorkerRegistrations? registrations,
        IHostEnvironment? environment,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        IMeterFactory? meterFactory = null)
    {
        Name = name;
        _display = PoolNames.Display(name);
        _options = options;
        _timeProvider = timeProvider;
        registrations ??= new WorkerRegistrations();
        _registry = new JobRegistry(_display, registrations.Jobs);
        _telemetry = new PoolTelemetry(name, meterFactory, this, timeProvider);
        _logger = loggerFactory.CreateLogger(Log.Category);
        var setup = registrations.CreateSetup(name, options, environment);
        _context = new SupervisorContext(_display, options, WorkerLauncher.ForCurrentApplication(options.LaunchMode), setup, timeProvider, loggerFactory, _telemetry, _lifecycle);
        _slots = new WorkerSlots(_context, this);
        Admission = new JobAdmission(_display, options, _lifecycle, () => _slots.CrashLoop, _logger);
        Arguments = new ArgumentWriter(options.Serializer, options.MaxMessageSize);
        _readBack = new ReadBackCheck(options.Serializer);
    }

    public string Name { get; }

    public ProcessPoolOptions Options => _options;

    /// <summary>Signalled when the pool begins closing: a running map stops taking items from its input.</summary>
    internal CancellationToken CloseRequested => _lifecycle.CloseRequested;

    /// <summary>The pool's name as messages show it.</summary>
    internal string DisplayName => _display;

    /// <summary>The pool's clock.</summary>
    internal TimeProvider TimeProvider => _timeProvider;

    internal JobAdmission Admission { get; }

    internal WorkerSlots Slots => _slots;

    internal SupervisorContext Context => _context;

    internal PoolLifecycle Lifecycle => _lifecycle;

    internal PoolTelemetry Telemetry => _telemetry;

    /// <summary>What operators see of this pool and can do to it.</summary>
    internal PoolOperator Operator => field ??= new PoolOperator(this);

    internal ArgumentWriter Arguments { get; }

    /// <summary>Whether dead or recycled workers are replaced; off for a one-off <see cref="WorkerProcess"/>.</summary>
    internal bool ReplacesWorkers
    {
        get => _slots.ReplacesWorkers;
        set => _slots.ReplacesWorkers = value;
    }

    /// <summary>The worker of slot 0 as started, for a one-off <see cref="WorkerProcess"/>.</summary>
    internal WorkerConnection? FirstWorker => _slots.FirstWorker;

    /// <summary>The size of a map's window when the options leave it to the pool.</summary>
    public int MapWindow => _options.MapWindow > 0 ? _options.MapWindow : Math.Max(1024, 2 * _options.Processes * _options.ChildConcurrency);

    public int QueuedJobs => Admission.QueuedJobs;

    public int InFlightJobs => Admission.InFlightJobs;

    public int ReadyWorkers => _slots.ReadyCount;

    /// <summary>Starts every worker in parallel and returns when all are ready; throws (and cleans up) when one cannot start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_lifecycle.TryStart())
        {
            throw new InvalidOperationException($"The process pool '{_display}' was already started.");
        }

        try
        {
            await _slots.StartAllAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await TerminateAsync("was killed: the pool failed to start").ConfigureAwait(false);
            throw;
        }

        Log.PoolStarted(_logger, _display, _options.Processes, _options.ChildConcurrency);
        _hotReload = HotReloadNotice.Track(_display, _logger);
    }

    public ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default) => new(GetStatus());

    /// <summary>The pool's status as it knows it now (a local pool never waits for it).</summary>
    public ProcessPoolStatus GetStatus() => new()
    {
        Name = Name,
        IsAcceptingJobs = _lifecycle.IsRunning,
        Processes = _options.Processes,
        ChildConcurrency = _options.ChildConcurrency,
        Workers = [.. _slots.Live.OrderBy(w => w.Id).Select(w => new WorkerStatus
        {
            WorkerId = w.Id,
            ProcessId = w.ProcessId == 0 ? null : w.ProcessId,
            State = w.State,
            Queue = w.Queue,
            InFlight = w.Jobs?.InFlightCount ?? 0,
            Completed = w.Jobs?.CompletedCount ?? 0,
            StartedAt = w.StartedAt,
        })],
        QueueLengths = Admission.QueueLengths,
        InFlight = Admission.InFlightJobs,
        WorkerRestarts = _slots.Restarts,
        StartFailure = _slots.CrashLoop?.Message,
    };

    public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken) =>
        InvokeAsync<TResult>(target, arguments, options, dispatchNotice: null, cancellationToken);

    /// <param name="target">The job.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="options">Per-call settings.</param>
    /// <param name="dispatchNotice">Completed once the job's frame went to a worker (a one-off <see cref="WorkerProcess"/>, tests).</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    internal Task<TResult> InvokeAsync<TResult>(
        JobTarget target, object?[] arguments, JobOptions? options, TaskCompletionSource? dispatchNotice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        target = Admit<TResult>(target);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        var (timeout, retries) = Effective(options);
        var number = JobRegistry.NumberOf(target);
        var job = Arguments.CreateJob(target, arguments, (id, buffer, length) => new SingleJob<TResult>(id, target, number, buffer, length)
        {
            DispatchNotice = dispatchNotice,
            Timeout = timeout,
            MaxRetries = retries,
        });
        return Submit(job, cancellationToken);
    }

    /// <inheritdoc />
    public Task<byte[]> InvokeSerializedAsync(JobTarget target, ReadOnlySpan<byte> arguments, int itemCount, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegative(itemCount);
        ThrowIfNotAccepting();
        target = _registry.Resolve(target);
        if (target.ProgressType is not null)
        {
            throw new ArgumentException($"Job '{target.Name}' reports progress (IProgress<T>), which a job sent as bytes has no caller to report to.", nameof(target));
        }

        Arguments.Arguments.ThrowIfTooLarge(target, arguments.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<byte[]>(cancellationToken);
        }

        var (timeout, retries) = Effective(options);
        var buffer = Channels.ChannelBuffers.Rent(Math.Max(1, arguments.Length));
        arguments.CopyTo(buffer);
        var job = new SerializedJob(Arguments.NextJobId(), target, JobRegistry.NumberOf(target), buffer, arguments.Length, itemCount)
        {
            Timeout = timeout,
            MaxRetries = retries,
        };
        return Submit(job, cancellationToken);
    }

    /// <summary>Accepts a job its caller awaits, listens to the caller's token, and queues it.</summary>
    private Task<TResult> Submit<TResult>(CallerJob<TResult> job, CancellationToken cancellationToken)
    {
        Accept(job);
        job.Watch(OnJobCanceled, cancellationToken);
        _ = Admission.EnqueueAsync(job, cancellationToken);
        return job.Task;
    }

    public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(argumentSets);
        target = Admit<TResult>(target);
        var (timeout, retries) = Effective(options);
        return MapOperation<TResult>.OverArgumentSets(this, target, argumentSets, MapWindow, timeout, retries, cancellationToken);
    }

    public PoolResult<TResult> InvokeEach<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(items);
        target = Admit<TResult>(target);
        var (timeout, retries) = Effective(options);

        // The typed path: items of a one-argument job stay typed from the sequence into a chunk's bytes.
        if (target.ParameterTypes.Count == 1 && target.ParameterTypes[0] == typeof(TItem) && ChunkSizer.Allows(_options, target, timeout, retries))
        {
            return MapOperation<TResult>.OverValues(this, target, items, MapWindow, cancellationToken);
        }

        return MapOperation<TResult>.OverArgumentSets(this, target, ArgumentSets.Of(items), MapWindow, timeout, retries, cancellationToken);
    }

    /// <summary>
    /// The job a call may run: the pool takes jobs, a request becomes its job class, the caller's result type fits, and
    /// the serializer can read back what it will write for the job.
    /// </summary>
    private JobTarget Admit<TResult>(JobTarget target)
    {
        ThrowIfNotAccepting();
        target = _registry.Resolve(target);
        JobPayloads.ThrowIfResultDoesNotFit<TResult>(target);
        _readBack.ThrowIfUnreadable(target);
        return target;
    }

    /// <summary>The job is the pool's from here: counted, traced, and on the clock of its timeout.</summary>
    internal void Accept(PendingJob job)
    {
        job.Telemetry = _telemetry;
        _telemetry.OnSubmitted(job);
        job.StartTimeout(_timeProvider, OnJobTimedOut);
    }

    internal void OnJobCanceled(PendingJob job, CancellationToken token)
    {
        job.Cancel(token);

        // Read after the job is marked finished: a worker that takes it meanwhile sees that and cancels it itself.
        job.Worker?.CancelRunning(job);
    }

    private void OnJobTimedOut(PendingJob job)
    {
        job.Fail(new TimeoutException($"Job '{job.Target.Name}' did not finish within {job.Timeout} (its timeout); it was {(job.Worker is null ? "removed from its queue" : "cancelled in its worker")}."));
        job.Worker?.CancelRunning(job);
    }

    private (TimeSpan? Timeout, int MaxRetries) Effective(JobOptions? options) =>
        (options?.Timeout ?? _options.JobTimeout, options?.MaxRetries ?? _options.MaxRetries);

    private void ThrowIfNotAccepting()
    {
        if (!_lifecycle.IsRunning)
        {
            throw _lifecycle.IsCreated
                ? new InvalidOperationException($"The process pool '{_display}' has not been started.")
                : new ObjectDisposedException(_display, $"The process pool '{_display}' is closed and takes no more jobs.");
        }
    }

    void IWorkerSlotsOwner.OnWorkerReady(WorkerConnection worker, int slot)
    {
        var queue = Admission.QueueOf(slot);
        var pump = new WorkerPump(worker, queue, Admission, _slots, _context);
        worker.Queue = Admission.IndexOf(slot);
        worker.Jobs = pump;
        queue.AddWorkers(1);
        pump.Start();
    }

    void IWorkerSlotsOwner.OnWorkerLeftSlot(WorkerConnection worker, int slot) => Admission.QueueOf(slot).AddWorkers(-1);

    bool IWorkerSlotsOwner.NeedsReplacement(int slot) => !(_lifecycle.IsClosing && Admission.QueueOf(slot).IsCompleted);

    void IWorkerSlotsOwner.OnCrashLoop(Exception exception) => Admission.FailQueuedWithoutRetries(exception);

    /// <summary>Stops taking jobs, lets queued and running jobs finish, and waits for the workers to exit; kills them when <paramref name="cancellationToken"/> fires.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_closing is null)
            {
                if (!_lifecycle.TryBeginClosing())
                {
                    _closing = _lifecycle.IsCreated ? _lifecycle.TerminateAsync() : Task.CompletedTask;
                    return _closing;
                }

                _context.DispatchGate.Open(); // closing finishes the queued jobs, drained or not
                _closing = CloseCoreAsync(cancellationToken);
            }

            return _closing;
        }
    }

    private async Task CloseCoreAsync(CancellationToken cancellationToken)
    {
        // The queues stay open while they hold or run jobs: a job whose worker dies during the drain is
        // queued again when it has retries left. A queue completes once nothing can come back to it.
        Admission.CompleteDrainedQueues();
        _slots.BeginClosing();
        // What a job still running is told, when the graceful part ends with it (nothing is left to kill otherwise).
        var why = "was killed: the pool was terminated";
        try
        {
            await _slots.AllExited.WaitAsync(_options.ShutdownTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.ShutdownTimedOut(_logger, _display, _options.ShutdownTimeout);
            why = exception is TimeoutException
                ? $"was killed: the pool was closing and its jobs outlasted ShutdownTimeout ({_options.ShutdownTimeout})"
                : "was killed: the pool was closing and its owner stopped waiting (the host's shutdown timeout, or the token given to CloseAsync)";
        }

        await TerminateAsync(why).ConfigureAwait(false);
    }

    /// <summary>Kills every worker at once; running jobs fail as lost, queued ones as cancelled.</summary>
    public Task TerminateAsync() => TerminateAsync("was killed: the pool was terminated (TerminateAsync)");

    /// <summary>Kills every worker at once; running jobs fail as lost (<paramref name="why"/> is the reason they are told), queued ones as cancelled.</summary>
    public async Task TerminateAsync(string why)
    {
        await _lifecycle.TerminateAsync().ConfigureAwait(false);
        Admission.CompleteAll(new OperationCanceledException($"The process pool '{_display}' was terminated before the job started."));
        await _slots.KillAllAsync(why).ConfigureAwait(false);
        _hotReload?.Dispose();
        _telemetry.Dispose();
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);
}
