using System.Buffers;
using System.Threading.Channels;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Supervision;
using ProcessPools.Telemetry;

namespace ProcessPools.Dispatch;

/// <summary>
/// Feeds one worker from its queue and tracks what it runs: takes a job as soon as the worker has a free
/// slot (<see cref="ProcessPoolOptions.ChildConcurrency"/>), with whatever else is ready in the same write;
/// answers each job from the worker's frames; retires the worker at <see cref="ProcessPoolOptions.MaxTasksPerChild"/>;
/// and when the worker dies, retries or fails every job it was running, so none is left pending.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore and token source never allocate wait handles or timers; the pump may still observe them after death.")]
internal sealed class WorkerPump : IWorkerJobs
{
    private const int MaxBurst = 256;

    private readonly WorkerConnection _worker;
    private readonly JobQueue _queue;
    private readonly JobAdmission _admission;
    private readonly WorkerSlots _slots;
    private readonly ProcessPoolOptions _options;
    private readonly SupervisorContext _context;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, PendingJob> _inFlight = [];
    private readonly HashSet<int> _definedTargets = [];
    private readonly SemaphoreSlim _free;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationGrace _grace;
    private int _dispatched;
    private long _completed;
    private bool _dead;
    private bool _draining;
    private PendingJob[] _lost = [];

    public WorkerPump(WorkerConnection worker, JobQueue queue, JobAdmission admission, WorkerSlots slots, SupervisorContext context)
    {
        _worker = worker;
        _queue = queue;
        _admission = admission;
        _slots = slots;
        _context = context;
        _options = context.Options;
        _free = new SemaphoreSlim(_options.ChildConcurrency, _options.ChildConcurrency);
        _grace = new CancellationGrace(context.TimeProvider, _options.CancellationGracePeriod);
    }

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

    public long CompletedCount => Interlocked.Read(ref _completed);

    /// <summary>The jobs handed to the worker so far (MaxTasksPerChild counts them).</summary>
    public int DispatchedCount => Volatile.Read(ref _dispatched);

    /// <summary>The worker's process id.</summary>
    public int ProcessId => _worker.ProcessId;

    /// <summary>The last lines the worker wrote to standard error.</summary>
    public IReadOnlyList<string> StandardErrorTail() => _worker.StandardErrorTail();

    /// <summary>The jobs running in the worker, for operators.</summary>
    public IReadOnlyList<Operations.RunningJob> Running()
    {
        PendingJob[] jobs;
        lock (_gate)
        {
            jobs = [.. _inFlight.Values];
        }

        return [.. jobs.OrderBy(j => j.Id).Select(j => new Operations.RunningJob(
            j.Id, j.JobName, j.ItemCount, j.Attempts, j.DispatchedAt == 0 ? TimeSpan.Zero : _context.TimeProvider.GetElapsedTime(j.DispatchedAt)))];
    }

    /// <summary>The running job with that id, if this worker holds it.</summary>
    public PendingJob? FindRunning(long jobId)
    {
        lock (_gate)
        {
            return _inFlight.GetValueOrDefault(jobId);
        }
    }

    /// <summary>Recycles the worker now, as MaxTasksPerChild would: a fresh worker takes its slot, it finishes its jobs and exits.</summary>
    public bool Recycle()
    {
        lock (_gate)
        {
            if (_dead || _draining)
            {
                return false;
            }
        }

        Retire();
        return true;
    }

    /// <summary>
    /// Recycling (MaxTasksPerChild, or an operator): a fresh worker takes this slot now, while this one finishes what it
    /// has; the dispatch loop ends (a dequeue that is cancelled takes nothing).
    /// </summary>
    private void Retire()
    {
        _worker.MarkDraining(retiring: true);
        _slots.Retire(_worker);
        _stop.Cancel();
        BeginShutdown();
    }

    /// <summary>Starts feeding the worker.</summary>
    public void Start() => _ = Task.Run(PumpAsync);

    /// <summary>
    /// Passes a cancellation (the caller's, or a timeout) of a running job to the child; kills the worker when
    /// the job is still running after the grace period.
    /// </summary>
    public void CancelRunning(PendingJob job)
    {
        lock (_gate)
        {
            if (_dead || !_inFlight.ContainsKey(job.Id) || !_grace.TryStart(job.Id, () => OnCancellationIgnored(job)))
            {
                return;
            }
        }

        _worker.Writer.TryWrite(new OutgoingFrame(FrameType.Cancel, job.Id, ReadOnlyMemory<byte>.Empty));
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
            _worker.Kill($"was killed: job '{job.Target.Name}' ignored its cancellation for {_options.CancellationGracePeriod.TotalSeconds:0.###} s (CancellationGracePeriod)");
        }
    }

    public void OnJobFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload)
    {
        switch (type)
        {
            case FrameType.Result:
                (Take(jobId) ?? NotHeld(type, jobId))?.Complete(payload, _options.Serializer);
                break;
            case FrameType.Fault:
                var error = FaultPayload.Decode(payload);
                if ((Take(jobId) ?? NotHeld(type, jobId)) is { } failed)
                {
                    failed.Fail(error.ToException(failed.Target.Name), answeredByWorker: true);
                }

                break;
            case FrameType.Canceled:
                (Take(jobId) ?? NotHeld(type, jobId))?.Fail(new OperationCanceledException("The job was cancelled in its worker process."), answeredByWorker: true);
                break;
            case FrameType.Progress:
                PendingJob? reporting;
                lock (_gate)
                {
                    _inFlight.TryGetValue(jobId, out reporting);
                }

                // A report for a job already answered is dropped: a job's own code may report from another thread
                // after it returned, which is a race of the job's, not a forged frame.

                try
                {
                    reporting?.ReportProgress(payload, _options.Serializer);
                }
                catch (Exception exception)
                {
                    // The caller's sink (or a value it cannot take) must not break the channel.
                    Log.ProgressFailed(_context.Logger, exception, _context.PoolName, reporting!.Target.Name);
                }

                break;
        }
    }

    /// <summary>
    /// A frame about a job this worker does not hold does not fit the protocol (a forged or corrupt frame): it breaks
    /// the channel, which kills the worker and fails only its jobs. After the worker's death, frames still in the
    /// pipe find no job and are dropped.
    /// </summary>
    private PendingJob? NotHeld(FrameType type, long jobId)
    {
        lock (_gate)
        {
            if (_dead)
            {
                return null;
            }
        }

        throw new InvalidDataException($"The worker sent a {type} frame for job {jobId}, which it does not hold.");
    }

    public int OnDying()
    {
        lock (_gate)
        {
            _dead = true;
            _lost = [.. _inFlight.Values];
            _inFlight.Clear();
        }

        _grace.Dispose();
        _stop.Cancel();
        return _lost.Length;
    }

    public void OnDied(WorkerDeath death)
    {
        foreach (var job in _lost)
        {
            if (!_admission.TryRetry(job))
            {
                job.Fail(new WorkerLostException(
                    job.Target.Name, death.ProcessId, death.ExitCode, job.Attempts > 1 ? $"{death.Reason} (attempt {job.Attempts})" : death.Reason, death.StandardErrorTail));
            }
        }

        // Counted as running until here, so a closing pool keeps their queue open for the retries above.
        _queue.AddInFlight(-_lost.Length);
        _lost = [];
        _admission.CompleteDrainedQueues();
    }

    private async Task PumpAsync()
    {
        var cancellation = _stop.Token;
        try
        {
            while (true)
            {
                if (_options.MaxTasksPerChild > 0 && _dispatched >= _options.MaxTasksPerChild)
                {
                    Retire();
                    return;
                }

                await _free.WaitAsync(cancellation).ConfigureAwait(false);
                PendingJob job;
                while (true)
                {
                    await _context.DispatchGate.WaitOpenAsync(cancellation).ConfigureAwait(false);
                    do
                    {
                        job = await _queue.DequeueAsync(cancellation).ConfigureAwait(false);
                    }
                    while (!job.TryDispatch());

                    if (_context.DispatchGate.IsOpen)
                    {
                        break;
                    }

                    // An operator drained the pool while this worker waited for a job: the job goes back to the queue
                    // (at its end), where it waits, counted, until the pool is resumed.
                    job.ReturnToQueue();
                    _admission.Requeue(job, _queue);
                }

                if (!Track(job))
                {
                    job.ReturnToQueue();
                    _admission.Requeue(job, _queue);
                    return;
                }

                _dispatched++;
                Send(job);

                // Take what else is ready now, so a burst of jobs goes out in one write.
                for (var burst = 0; burst < MaxBurst && (_options.MaxTasksPerChild == 0 || _dispatched < _options.MaxTasksPerChild) && _context.DispatchGate.IsOpen; burst++)
                {
                    if (!_free.Wait(0, CancellationToken.None))
                    {
                        break;
                    }

                    if (!TryTakeReady(out var next))
                    {
                        _free.Release();
                        break;
                    }

                    if (!Track(next))
                    {
                        next.ReturnToQueue();
                        _admission.Requeue(next, _queue);
                        _worker.Writer.Flush();
                        return;
                    }

                    _dispatched++;
                    Send(next);
                }

                _worker.Writer.Flush();
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The worker died; its in-flight jobs are answered in OnDied.
        }
        catch (ChannelClosedException)
        {
            // The pool is closing and the queue is empty: leave once the running jobs are done.
            _worker.MarkDraining(retiring: false);
            BeginShutdown();
        }
        catch (Exception exception)
        {
            // Nothing else is expected here; should anything escape, this worker would hold its jobs and get no more,
            // and they would wait forever. Its death answers them instead (retried or failed as lost, with this reason),
            // and the slot gets a new worker.
            _worker.Kill($"was killed: its dispatch loop failed ({exception.GetType().Name}: {exception.Message})");
        }
    }

    private bool TryTakeReady(out PendingJob job)
    {
        while (_queue.TryDequeue(out job))
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

        _queue.AddInFlight(1);
        return true;
    }

    /// <summary>Queues the job's frames; the caller flushes the writer.</summary>
    private void Send(PendingJob job)
    {
        var writer = _worker.Writer;
        if (!_definedTargets.Contains(job.TargetNumber))
        {
            byte[] definition;
            try
            {
                definition = DefinePayload.Encode(JobDefinition.From(job.Target));
            }
            catch (Exception exception)
            {
                // A target this process cannot name to a worker fails its job; the pump goes on with the next one.
                Take(job.Id)?.Fail(new InvalidOperationException($"Job '{job.Target.Name}' cannot be named to a worker process: {exception.Message}", exception));
                return;
            }

            _definedTargets.Add(job.TargetNumber);
            writer.Post(new OutgoingFrame(FrameType.Define, job.TargetNumber, definition));
        }

        _context.Telemetry.OnDispatched(job, _worker.Id, _worker.ProcessId);
        if (TraceContextPayload.Encode(job.TraceParent) is { } context)
        {
            writer.Post(new OutgoingFrame(FrameType.TraceContext, job.Id, context));
        }

        writer.Post(InvokePayload.Frame(job.InvokeFrame, job.Id, job.TargetNumber, job.Arguments));
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

            shutdown = _draining && _inFlight.Count == 0;
        }

        _grace.Stop(jobId);
        _queue.AddInFlight(-1);
        Interlocked.Increment(ref _completed);
        _free.Release();
        _admission.CompleteDrainedQueues();
        if (shutdown)
        {
            _worker.RequestShutdown();
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
            now = _inFlight.Count == 0 && !_dead;
        }

        if (now)
        {
            _worker.RequestShutdown();
        }
    }
}
