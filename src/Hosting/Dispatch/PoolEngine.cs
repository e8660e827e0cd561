using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Scheduling;
using ProcessPools.Supervision;
using ProcessPools.Telemetry;

namespace ProcessPools.Dispatch;

/// <summary>
/// The pool itself: queues, scheduler, and the worker slots it keeps filled. Independent of
/// Microsoft.Extensions.Hosting; the hosted service and <see cref="ProcessPool.StartAsync(Action{ProcessPoolOptions}?, CancellationToken)"/> wrap it.
/// </summary>
internal sealed partial class PoolEngine : IProcessPool, ISchedulerContext, IValueMapper
{
    private const int Created = 0;
    private const int Running = 1;
    private const int Closing = 2;
    private const int Closed = 3;

    private readonly ProcessPoolOptions _options;
    private readonly WorkerLauncher _launcher;
    private readonly WorkerSetup _setup;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly JobQueue[] _queues;
    private readonly IScheduler _scheduler;
    private readonly WorkerConnection?[] _slots;
    private readonly int[] _consecutiveStartFailures;
    private readonly CancellationTokenSource _terminated = new();
    private readonly Lock _gate = new();
    private readonly List<WorkerConnection> _live = [];
    private readonly TaskCompletionSource _allExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<Type, JobTarget> _jobsByArgument = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<WorkerConnection> _spares = new();
    private readonly SemaphoreSlim? _queueRoom;
    private readonly PoolTelemetry _telemetry;
    private readonly Action<PendingJob> _releaseQueueRoom;
    private Exception? _crashLoop;
    private Task? _closing;
    private long _lastJobId;
    private int _lastWorkerId;
    private int _state;

    /// <summary>Creates a pool (not started yet) from validated options and its workers' registrations.</summary>
    /// <param name="name">The pool's name.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="registrations">What the workers add to their hosts; none when <see langword="null"/>.</param>
    /// <param name="environment">The parent's host environment, whose content root and environment the workers share.</param>
    /// <param name="loggerFactory">The parent's logging.</param>
    /// <param name="timeProvider">The clock for back-off and timeouts.</param>
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
        _telemetry = new PoolTelemetry(this, meterFactory);
        _options = options;
        registrations ??= new WorkerRegistrations();
        _setup = CreateSetup(name, options, registrations, environment);
        foreach (var jobType in registrations.Jobs)
        {
            var target = JobTarget.FromJobType(jobType);
            var argumentType = target.ParameterTypes[0];
            if (_jobsByArgument.TryGetValue(argumentType, out var other))
            {
                throw new InvalidOperationException(
                    $"The job classes '{other.Name}' and '{target.Name}' of process pool '{Name}' both take {argumentType}; SendAsync could not choose. Give each its own argument type.");
            }

            _jobsByArgument.Add(argumentType, target);
        }

        _logger = loggerFactory.CreateLogger("ProcessPools.ProcessPool");
        LoggerFactory = loggerFactory;
        _timeProvider = timeProvider;
        _launcher = WorkerLauncher.ForCurrentApplication(options.LaunchMode);
        _queues = [.. Enumerable.Range(0, options.QueueCount).Select(i => new JobQueue(i))];
        _scheduler = options.SchedulerFactory?.Invoke() ?? options.Scheduler switch
        {
            SchedulerKind.LeastLoaded => new LeastLoadedScheduler(),
            _ => new RoundRobinScheduler(options.Processes, options.QueueCount),
        };
        _queueRoom = options.MaxQueuedJobs > 0 ? new SemaphoreSlim(options.MaxQueuedJobs, options.MaxQueuedJobs) : null;
        _releaseQueueRoom = _ => _queueRoom!.Release();
        _slots = new WorkerConnection?[options.Processes];
        _consecutiveStartFailures = new int[options.Processes];
    }

    public string Name { get; }

    /// <summary>Whether dead or recycled workers are replaced; off for a one-off <see cref="WorkerProcess"/>.</summary>
    internal bool ReplacesWorkers { get; set; } = true;

    /// <summary>The worker of slot 0 as started, for a one-off <see cref="WorkerProcess"/>.</summary>
    internal WorkerConnection? FirstWorker { get; private set; }

    public ProcessPoolOptions Options => _options;

    public int QueueCount => _queues.Length;

    /// <summary>The size of a map's window when the options leave it to the pool.</summary>
    public int MapWindow => _options.MapWindow > 0 ? _options.MapWindow : Math.Max(1024, 2 * _options.Processes * _options.ChildConcurrency);

    public int GetWorkerCount(int queue) => _queues[queue].Workers;

    public int GetQueuedCount(int queue) => _queues[queue].Queued;

    public int GetInFlightCount(int queue) => _queues[queue].InFlight;

    /// <summary>The live worker processes' ids, for tests and diagnostics.</summary>
    public IReadOnlyList<int> WorkerProcessIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _live.Select(w => w.ProcessId)];
            }
        }
    }

    /// <summary>The process ids of the workers that are ready and take jobs (not those starting or leaving), for tests and diagnostics.</summary>
    public IReadOnlyList<int> ReadyWorkerProcessIds => [.. _slots.OfType<WorkerConnection>().Select(w => w.ProcessId)];

    /// <summary>Starts every worker in parallel and returns when all are ready; throws (and cleans up) when one cannot start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Running, Created) != Created)
        {
            throw new InvalidOperationException($"The process pool '{Name}' was already started.");
        }

        var starts = Enumerable.Range(0, _slots.Length).Select(slot => StartWorkerAsync(slot, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(starts).ConfigureAwait(false);
        }
        catch
        {
            await TerminateAsync().ConfigureAwait(false);
            var failure = starts.First(t => t.IsFaulted || t.IsCanceled);
            await failure.ConfigureAwait(false); // rethrows the first worker's own exception, not an AggregateException
            throw;
        }

        Log.PoolStarted(_logger, Name, _slots.Length, _options.ChildConcurrency);
        for (var i = 0; i < _options.SpareWorkers; i++)
        {
            _ = StartSpareAsync();
        }
    }

    /// <summary>Starts a worker that waits, ready, to take a slot the moment its worker retires or dies.</summary>
    private async Task StartSpareAsync()
    {
        if (!ReplacesWorkers || Volatile.Read(ref _state) != Running)
        {
            return;
        }

        var spare = new WorkerConnection(this, Interlocked.Increment(ref _lastWorkerId), slot: -1, queue: null, _options, _logger);
        lock (_gate)
        {
            _live.Add(spare);
        }

        try
        {
            await spare.StartAsync(_launcher, _setup with { WorkerId = spare.Id }, _terminated.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Replacements still start the slow way; the spare is tried again when a replacement uses one.
            Log.SpareFailed(_logger, exception, Name);
            return;
        }

        _spares.Enqueue(spare);
        if (Volatile.Read(ref _state) != Running)
        {
            ShutDownSpares(); // the pool began closing while this one started
        }
    }

    /// <summary>Puts a ready spare in the slot; false when there is none.</summary>
    private bool TryTakeSpare(int slot)
    {
        while (_spares.TryDequeue(out var spare))
        {
            if (spare.IsDead)
            {
                continue;
            }

            var queue = _queues[slot % _queues.Length];
            spare.Assign(slot, queue);
            _slots[slot] = spare;
            queue.AddWorkers(1);
            spare.StartPump();
            _ = StartSpareAsync();
            return true;
        }

        return false;
    }

    private void ShutDownSpares()
    {
        while (_spares.TryDequeue(out var spare))
        {
            spare.ShutDownIdle();
        }
    }

    public JobTarget GetJob(Type argumentType)
    {
        ArgumentNullException.ThrowIfNull(argumentType);
        for (var type = argumentType; type is not null; type = type.BaseType)
        {
            if (_jobsByArgument.TryGetValue(type, out var target))
            {
                return target;
            }
        }

        throw new InvalidOperationException(
            $"No job class of process pool '{Name}' takes a {argumentType}. Register one that implements IProcessJob<{argumentType.Name}, TResult> with AddProcessPool(...).AddJob<TJob>().");
    }

    public ProcessPoolStatus GetStatus()
    {
        WorkerConnection[] live;
        lock (_gate)
        {
            live = [.. _live];
        }

        return new ProcessPoolStatus(
            Name,
            Volatile.Read(ref _state) == Running,
            _options.Processes,
            _options.ChildConcurrency,
            [.. live.OrderBy(w => w.Id).Select(w => new WorkerStatus(w.Id, w.ProcessId, w.State, w.InFlightCount, w.CompletedCount, w.StartedAt))],
            [.. _queues.Select(q => q.Queued)],
            InFlightJobs,
            Math.Max(0, Volatile.Read(ref _lastWorkerId) - _options.Processes),
            Volatile.Read(ref _crashLoop)?.Message);
    }

    /// <summary>A job class must be registered, so the worker has it in its container and a missing one fails here rather than in the child.</summary>
    private void ThrowIfUnregistered(JobTarget target)
    {
        if (target.Kind == JobTargetKind.JobClass && !(_jobsByArgument.TryGetValue(target.ParameterTypes[0], out var registered) && registered == target))
        {
            throw new InvalidOperationException(
                $"The job class '{target.Name}' is not registered with process pool '{Name}'. Add it with AddProcessPool(...).AddJob<{target.JobType!.Name}>().");
        }
    }

    public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, CancellationToken cancellationToken = default) =>
        InvokeAsync<TResult>(target, arguments, options: null, dispatchNotice: null, cancellationToken);

    public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken) =>
        InvokeAsync<TResult>(target, arguments, options, dispatchNotice: null, cancellationToken);

    internal Task<TResult> InvokeAsync<TResult>(
        JobTarget target, object?[] arguments, JobOptions? options, TaskCompletionSource? dispatchNotice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        options?.Validate(nameof(options));
        ThrowIfNotAccepting();
        ThrowIfUnregistered(target);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult>(cancellationToken);
        }

        var (timeout, retries) = Effective(options);
        var job = CreateJob(target, arguments, (id, buffer, length) => new SingleJob<TResult>(id, target, buffer, length)
        {
            DispatchNotice = dispatchNotice,
            Timeout = timeout,
            MaxRetries = retries,
        });
        Accept(job);
        job.Watch(OnJobCanceled, cancellationToken);
        _ = EnqueueAsync(job, cancellationToken);
        return job.Task;
    }

    public PoolResult<TResult> MapCore<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, CancellationToken cancellationToken = default) =>
        MapCore<TResult>(target, argumentSets, options: null, cancellationToken);

    /// <inheritdoc />
    PoolResult<TResult>? IValueMapper.TryMapValues<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(items);
        var (timeout, retries) = Effective(null);
        if (_options.Serializer.GetType() != typeof(JsonJobSerializer) || target.ParameterTypes.Count != 1 || target.ParameterTypes[0] != typeof(TItem)
            || !MapOperation<TResult>.Chunks(this, target, timeout, retries))
        {
            return null;
        }

        ThrowIfNotAccepting();
        ThrowIfUnregistered(target);
        return MapOperation<TResult>.OverValues(this, target, items, MapWindow, cancellationToken);
    }

    public PoolResult<TResult> MapCore<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(argumentSets);
        options?.Validate(nameof(options));
        ThrowIfNotAccepting();
        ThrowIfUnregistered(target);
        var (timeout, retries) = Effective(options);
        return new MapOperation<TResult>(this, target, argumentSets, MapWindow, timeout, retries, cancellationToken);
    }

    /// <summary>The job is the pool's from here: counted, traced, and on the clock of its timeout.</summary>
    internal void Accept(PendingJob job)
    {
        job.Telemetry = _telemetry;
        _telemetry.OnSubmitted(job);
        job.StartTimeout(_timeProvider, OnJobTimedOut);
    }

    internal PoolTelemetry Telemetry => _telemetry;

    /// <summary>The parent's logging, where the workers' log entries are written.</summary>
    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>Jobs waiting in the queues.</summary>
    public int QueuedJobs => _queues.Sum(q => q.Queued);

    /// <summary>Jobs running in workers.</summary>
    public int InFlightJobs => _queues.Sum(q => q.InFlight);

    /// <summary>Workers ready for jobs.</summary>
    public int ReadyWorkerCount => _slots.Count(w => w is not null);

    private (TimeSpan? Timeout, int MaxRetries) Effective(JobOptions? options) =>
        (options?.Timeout ?? _options.JobTimeout, options?.MaxRetries ?? _options.MaxRetries);

    internal TimeProvider TimeProvider => _timeProvider;

    /// <summary>Serializes the arguments (so a bad one fails here, at the call site) and creates the job.</summary>
    internal TJob CreateJob<TJob>(JobTarget target, object?[] arguments, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob
    {
        var buffer = new PooledBufferWriter();
        object? progress;
        try
        {
            progress = WriteArguments(target, arguments, buffer);
            ThrowIfTooLarge(target, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, written) = buffer.Detach();
        var job = create(Interlocked.Increment(ref _lastJobId), array, written);
        job.ProgressSink = progress;
        return job;
    }

    /// <summary>
    /// One job for several items of a map (its chunk): <c>[count]</c>, then each item's arguments as a
    /// length-prefixed blob. An item whose arguments cannot be sent throws here, like a single job's.
    /// </summary>
    internal TJob CreateChunkJob<TJob>(JobTarget target, IReadOnlyList<object?[]> items, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob =>
        CreateChunk(target, items.Count, create, (buffer, i) => WriteArguments(target, items[i], buffer));

    /// <summary>
    /// A chunk of a one-argument job's items written straight from their values (the default serializer's typed
    /// path): the same bytes <see cref="CreateChunkJob{TJob}"/> writes, without an argument array per item.
    /// </summary>
    internal TJob CreateValueChunkJob<TItem, TJob>(JobTarget target, List<TItem> items, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob
    {
        var serializer = (JsonJobSerializer)_options.Serializer;
        return CreateChunk(target, items.Count, create, (buffer, i) =>
        {
            // [argument length][argument], as the general path writes the one argument of an item.
            var lengthAt = buffer.WrittenCount;
            buffer.GetSpan(sizeof(int));
            buffer.Advance(sizeof(int));
            try
            {
                serializer.SerializeValue(buffer, items[i]);
            }
            catch (Exception exception)
            {
                throw new ArgumentException($"Argument 1 of job '{target.Name}' ({typeof(TItem)}) cannot be serialized: {exception.Message}", nameof(items), exception);
            }

            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer.WrittenSpan(lengthAt, sizeof(int)), buffer.WrittenCount - lengthAt - sizeof(int));
        });
    }

    /// <summary>A chunk's payload: the item count, then each item as a length-prefixed blob of its arguments.</summary>
    private TJob CreateChunk<TJob>(JobTarget target, int count, Func<long, byte[], int, TJob> create, Action<PooledBufferWriter, int> writeItem)
        where TJob : PendingJob
    {
        var buffer = new PooledBufferWriter();
        try
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(sizeof(int)), count);
            buffer.Advance(sizeof(int));
            for (var i = 0; i < count; i++)
            {
                var lengthAt = buffer.WrittenCount;
                buffer.GetSpan(sizeof(int));
                buffer.Advance(sizeof(int));
                writeItem(buffer, i);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer.WrittenSpan(lengthAt, sizeof(int)), buffer.WrittenCount - lengthAt - sizeof(int));
            }

            ThrowIfTooLarge(target, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, written) = buffer.Detach();
        return create(Interlocked.Increment(ref _lastJobId), array, written);
    }

    /// <summary>Appends each argument as a length-prefixed blob; returns the caller's progress sink, if the job takes one.</summary>
    private object? WriteArguments(JobTarget target, object?[] arguments, PooledBufferWriter buffer)
    {
        var types = target.ParameterTypes;
        if (arguments.Length != types.Count)
        {
            throw new ArgumentException($"Job '{target.Name}' takes {types.Count} arguments; {arguments.Length} were given.", nameof(arguments));
        }

        object? progress = null;
        var takesProgress = target.ProgressType is not null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            var type = types[i];
            if (argument is null ? type.IsValueType && Nullable.GetUnderlyingType(type) is null : argument.GetType() != type && !type.IsInstanceOfType(argument))
            {
                throw new ArgumentException($"Argument {i + 1} of job '{target.Name}' must be {type}; it is {argument?.GetType().ToString() ?? "null"}.", nameof(arguments));
            }

            var lengthAt = buffer.WrittenCount;
            buffer.GetSpan(sizeof(int));
            buffer.Advance(sizeof(int)); // the length, filled in below
            if (takesProgress && JobTarget.ProgressValueType(type) is not null)
            {
                // The caller's sink stays here; the worker learns only whether there is one.
                progress = argument;
                if (argument is not null)
                {
                    buffer.GetSpan(1)[0] = 1;
                    buffer.Advance(1);
                }
            }
            else
            {
                try
                {
                    _options.Serializer.Serialize(buffer, argument, type);
                }
                catch (Exception exception)
                {
                    throw new ArgumentException($"Argument {i + 1} of job '{target.Name}' ({type}) cannot be serialized: {exception.Message}", nameof(arguments), exception);
                }
            }

            var length = buffer.WrittenCount - lengthAt - sizeof(int);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer.WrittenSpan(lengthAt, sizeof(int)), length);
        }

        return progress;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter.")]
    private void ThrowIfTooLarge(JobTarget target, PooledBufferWriter buffer)
    {
        if (buffer.WrittenCount + sizeof(int) > _options.MaxMessageSize)
        {
            throw new ArgumentException(
                $"The arguments of job '{target.Name}' serialize to {buffer.WrittenCount} bytes, over the channel's limit of {_options.MaxMessageSize} bytes (MaxMessageSize).",
                "arguments");
        }
    }

    /// <summary>
    /// Queues an accepted job, waiting for room when <see cref="ProcessPoolOptions.MaxQueuedJobs"/> is reached.
    /// Never throws: a job that cannot be queued is answered with the reason.
    /// </summary>
    internal Task EnqueueAsync(PendingJob job, CancellationToken cancellationToken)
    {
        if (_queueRoom is null)
        {
            Place(job);
            return Task.CompletedTask;
        }

        if (_queueRoom.Wait(0, CancellationToken.None))
        {
            job.HoldQueueRoom(_releaseQueueRoom);
            Place(job);
            return Task.CompletedTask;
        }

        return WaitForRoomAsync(job, cancellationToken);
    }

    private async Task WaitForRoomAsync(PendingJob job, CancellationToken cancellationToken)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _terminated.Token);
        try
        {
            await _queueRoom!.WaitAsync(waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller cancelled (the job is already answered through its token) or the pool was terminated.
            job.Fail(new OperationCanceledException($"The process pool '{Name}' was terminated before the job was queued."));
            return;
        }

        job.HoldQueueRoom(_releaseQueueRoom); // gives the room back at once if the job was answered meanwhile
        Place(job);
    }

    /// <summary>Places an accepted job on the queue the scheduler picks.</summary>
    private void Place(PendingJob job)
    {
        if (job.IsFinished)
        {
            return; // cancelled or timed out while it waited for room
        }

        if (Volatile.Read(ref _crashLoop) is { } crashLoop)
        {
            job.Fail(crashLoop);
            return;
        }

        var index = _queues.Length == 1 ? 0 : _scheduler.SelectQueue(this);
        if ((uint)index >= (uint)_queues.Length)
        {
            job.Fail(new InvalidOperationException($"The scheduler of pool '{Name}' chose queue {index}; there are {_queues.Length}."));
            return;
        }

        if (!_queues[index].TryEnqueue(job))
        {
            job.Fail(new ObjectDisposedException(Name, $"The process pool '{Name}' is closed."));
        }
    }

    /// <summary>Puts back a job a dying worker took from its queue but never sent.</summary>
    internal void Requeue(PendingJob job, JobQueue queue)
    {
        if (!queue.TryEnqueue(job))
        {
            job.Fail(new ObjectDisposedException(Name, $"The process pool '{Name}' closed before the job could run."));
        }
    }

    /// <summary>Queues again a job whose worker died, when it has retries left; false when it must fail.</summary>
    internal bool TryRetry(PendingJob job)
    {
        if (job.Attempts > job.MaxRetries || Volatile.Read(ref _state) == Closed || !job.ReturnToQueue())
        {
            return false;
        }

        job.Worker = null;
        Log.JobRetried(_logger, Name, job.Target.Name, job.Attempts, job.MaxRetries);
        Place(job); // it holds no room in the bounded queues any more, and must not wait for it: it was accepted
        return true;
    }

    internal void OnJobCanceled(PendingJob job, CancellationToken token)
    {
        job.Cancel(token);

        // Read after the job is marked finished: a worker that takes it meanwhile sees that and cancels it itself.
        job.Worker?.CancelRunning(job);
    }

    internal void OnJobTimedOut(PendingJob job)
    {
        job.Fail(new TimeoutException($"Job '{job.Target.Name}' did not finish within {job.Timeout} (its timeout); it was {(job.Worker is null ? "removed from its queue" : "cancelled in its worker")}."));
        job.Worker?.CancelRunning(job);
    }

    internal void ThrowIfNotAccepting()
    {
        var state = Volatile.Read(ref _state);
        if (state != Running)
        {
            throw state == Created
                ? new InvalidOperationException($"The process pool '{Name}' has not been started.")
                : new ObjectDisposedException(Name, $"The process pool '{Name}' is closed and takes no more jobs.");
        }
    }

    private async Task StartWorkerAsync(int slot, CancellationToken cancellationToken)
    {
        var queue = _queues[slot % _queues.Length];
        var worker = new WorkerConnection(this, Interlocked.Increment(ref _lastWorkerId), slot, queue, _options, _logger);
        lock (_gate)
        {
            _live.Add(worker);
        }

        await worker.StartAsync(_launcher, _setup with { WorkerId = worker.Id }, cancellationToken).ConfigureAwait(false);
        _slots[slot] = worker;
        if (slot == 0)
        {
            FirstWorker ??= worker;
        }

        queue.AddWorkers(1);
        worker.StartPump();
    }

    /// <summary>A worker reached MaxTasksPerChild: its replacement starts now, while it finishes its jobs.</summary>
    internal void OnWorkerRetiring(WorkerConnection worker)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[worker.Slot], null, worker), worker))
        {
            _queues[worker.Slot % _queues.Length].AddWorkers(-1);
            _ = ReplaceAsync(worker.Slot);
        }
    }

    internal void OnWorkerExited(WorkerConnection worker)
    {
        if (worker.Slot < 0)
        {
            // A spare died waiting: start another (one whose start fails is not retried in a loop).
            if (!worker.ExitedAsAsked)
            {
                _ = StartSpareAsync();
            }
        }
        else if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[worker.Slot], null, worker), worker))
        {
            // It died in its slot (a retiring worker left its slot already).
            _queues[worker.Slot % _queues.Length].AddWorkers(-1);
            _ = ReplaceAsync(worker.Slot);
        }

        bool none;
        lock (_gate)
        {
            _live.Remove(worker);
            none = _live.Count == 0;
        }

        if (none && Volatile.Read(ref _state) >= Closing)
        {
            _allExited.TrySetResult();
        }
    }

    private async Task ReplaceAsync(int slot)
    {
        var queue = _queues[slot % _queues.Length];
        while (ReplacesWorkers && !_terminated.IsCancellationRequested)
        {
            // Closing: a replacement is only needed while its queue still holds jobs.
            if (Volatile.Read(ref _state) >= Closing && queue.IsCompleted)
            {
                return;
            }

            try
            {
                if (!TryTakeSpare(slot))
                {
                    await StartWorkerAsync(slot, _terminated.Token).ConfigureAwait(false);
                }

                _consecutiveStartFailures[slot] = 0;
                if (Interlocked.Exchange(ref _crashLoop, null) is not null)
                {
                    Log.CrashLoopEnded(_logger, Name);
                }

                return;
            }
            catch (Exception exception) when (!_terminated.IsCancellationRequested)
            {
                var failures = ++_consecutiveStartFailures[slot];
                if (failures >= CrashLoopThreshold && Array.TrueForAll(_slots, w => w is null))
                {
                    // No worker left and none will start: answer what waits instead of leaving it pending.
                    var crashLoop = new ProcessPoolException(
                        $"No worker of process pool '{Name}' is running: the last {failures} starts of a replacement failed. The last failure: {exception.Message}", exception);
                    if (Interlocked.Exchange(ref _crashLoop, crashLoop) is null)
                    {
                        Log.CrashLoop(_logger, exception, Name, failures);
                    }

                    FailQueued(crashLoop);
                }

                var delay = TimeSpan.FromMilliseconds(Math.Min(10_000, 100 * Math.Pow(2, Math.Min(failures - 1, 10))));
                Log.ReplacementFailed(_logger, exception, Name, slot, failures, delay);
                try
                {
                    await Task.Delay(delay, _timeProvider, _terminated.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch
            {
                return;
            }
        }
    }

    /// <summary>While closing: completes each queue that has nothing queued and nothing running, so its workers leave.</summary>
    internal void CompleteDrainedQueues()
    {
        if (Volatile.Read(ref _state) < Closing)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            if (queue.Queued == 0 && queue.InFlight == 0)
            {
                queue.Complete();
            }
        }
    }

    /// <summary>How many replacement starts in a row may fail, with no worker running, before queued jobs are failed.</summary>
    private const int CrashLoopThreshold = 3;

    private void FailQueued(Exception exception)
    {
        foreach (var queue in _queues)
        {
            while (queue.TryDequeue(out var job))
            {
                job.Fail(exception);
            }
        }
    }

    /// <summary>Stops taking jobs, lets queued and running jobs finish, and waits for the workers to exit; kills them when <paramref name="cancellationToken"/> fires.</summary>
    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_closing is null)
            {
                if (Interlocked.CompareExchange(ref _state, Closing, Running) != Running)
                {
                    _state = Closed;
                    _closing = Task.CompletedTask;
                    return _closing;
                }

                _closing = CloseCoreAsync(cancellationToken);
            }

            return _closing;
        }
    }

    private async Task CloseCoreAsync(CancellationToken cancellationToken)
    {
        // The queues stay open while they hold or run jobs: a job whose worker dies during the drain is
        // queued again when it has retries left. A queue completes once nothing can come back to it.
        CompleteDrainedQueues();
        ShutDownSpares();

        lock (_gate)
        {
            if (_live.Count == 0)
            {
                _allExited.TrySetResult();
            }
        }

        try
        {
            await _allExited.Task.WaitAsync(_options.ShutdownTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.ShutdownTimedOut(_logger, Name, _options.ShutdownTimeout);
        }

        await TerminateAsync().ConfigureAwait(false);
    }

    /// <summary>Kills every worker at once; running jobs fail as lost, queued ones as cancelled.</summary>
    public async Task TerminateAsync()
    {
        Volatile.Write(ref _state, Closed);
        await _terminated.CancelAsync().ConfigureAwait(false);
        foreach (var queue in _queues)
        {
            queue.Complete();
        }

        FailQueued(new OperationCanceledException($"The process pool '{Name}' was terminated before the job started."));

        WorkerConnection[] live;
        lock (_gate)
        {
            live = [.. _live];
        }

        foreach (var worker in live)
        {
            worker.Kill("was killed: the pool was terminated");
        }

        await Task.WhenAll(live.Select(w => w.Exited)).ConfigureAwait(false);
        _telemetry.Dispose();
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    private static WorkerSetup CreateSetup(string name, ProcessPoolOptions options, WorkerRegistrations registrations, IHostEnvironment? environment) => new()
    {
        PoolName = name,
        ContentRootPath = options.ContentRootPath ?? environment?.ContentRootPath ?? Environment.CurrentDirectory,
        EnvironmentName = options.EnvironmentName ?? environment?.EnvironmentName,
        ApplicationName = environment?.ApplicationName ?? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name,
        SerializerType = options.Serializer.GetType().AssemblyQualifiedName!,
        ChildConcurrency = options.ChildConcurrency,
        MaxMessageSize = options.MaxMessageSize,
        HeartbeatTimeout = options.HeartbeatTimeout,
        Jobs = [.. registrations.Jobs.Select(TypeReference.From)],
        Initializers = [.. registrations.Initializers.Select(TypeReference.From)],
        ExceptionHandlers = [.. registrations.ExceptionHandlers.Select(TypeReference.From)],
        HostConfigurators = [.. registrations.HostConfigurators.Select(JobDefinition.From)],
    };

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Information, "Process pool '{Pool}' started {Processes} workers x {ChildConcurrency} concurrent jobs.")]
        public static partial void PoolStarted(ILogger logger, string pool, int processes, int childConcurrency);

        [LoggerMessage(11, LogLevel.Error, "Process pool '{Pool}' could not replace the worker in slot {Slot} ({Failures} failures in a row); next try in {Delay}.")]
        public static partial void ReplacementFailed(ILogger logger, Exception exception, string pool, int slot, int failures, TimeSpan delay);

        [LoggerMessage(12, LogLevel.Warning, "Process pool '{Pool}' did not drain within {Timeout}; killing its workers.")]
        public static partial void ShutdownTimedOut(ILogger logger, string pool, TimeSpan timeout);

        [LoggerMessage(13, LogLevel.Information, "Process pool '{Pool}': job '{Job}' lost its worker and is queued again (attempt {Attempts}, {MaxRetries} retries allowed).")]
        public static partial void JobRetried(ILogger logger, string pool, string job, int attempts, int maxRetries);

        [LoggerMessage(14, LogLevel.Critical, "Process pool '{Pool}' has no running worker and {Failures} replacement starts in a row failed; queued and new jobs fail until a worker starts.")]
        public static partial void CrashLoop(ILogger logger, Exception exception, string pool, int failures);

        [LoggerMessage(15, LogLevel.Information, "Process pool '{Pool}' has a running worker again.")]
        public static partial void CrashLoopEnded(ILogger logger, string pool);

        [LoggerMessage(16, LogLevel.Warning, "Process pool '{Pool}' could not start a spare worker.")]
        public static partial void SpareFailed(ILogger logger, Exception exception, string pool);
    }
}
