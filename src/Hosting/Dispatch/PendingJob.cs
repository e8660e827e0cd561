using System.Buffers;
using System.Diagnostics;
using ProcessPools.Channels;
using ProcessPools.Telemetry;

namespace ProcessPools.Dispatch;

/// <summary>
/// A job the pool accepted: its serialized arguments, where it is (queued, dispatched, finished), and
/// how to answer its caller. Every pending job gets exactly one answer.
/// </summary>
internal abstract class PendingJob : ITracedJob
{
    private const int Queued = 0;
    private const int Dispatched = 1;
    private const int Finished = 2;

    private byte[]? _arguments;
    private int _state;
    private int _holdsQueueRoom;
    private ITimer? _timeout;
    private Action<PendingJob>? _onRoomReleased;
    private JobQueue? _countedIn;
    private int _counted;

    protected PendingJob(long id, JobTarget target, int targetNumber, byte[] arguments, int argumentsLength)
    {
        Id = id;
        Target = target;
        TargetNumber = targetNumber;
        _arguments = arguments;
        ArgumentsLength = argumentsLength;
    }

    public long Id { get; }

    public JobTarget Target { get; }

    /// <summary>The number the channel knows the target by (<see cref="JobRegistry"/>).</summary>
    public int TargetNumber { get; }

    /// <inheritdoc />
    public string JobName => Target.Name;

    public int ArgumentsLength { get; }

    public ReadOnlyMemory<byte> Arguments => _arguments.AsMemory(0, ArgumentsLength);

    /// <summary>The worker it was dispatched to, while it runs.</summary>
    public WorkerPump? Worker { get; set; }

    public bool IsFinished => Volatile.Read(ref _state) == Finished;

    /// <summary>Completed once the job's invoke frame is handed to a worker's writer (one-off worker processes wait for it).</summary>
    public TaskCompletionSource? DispatchNotice { get; init; }

    /// <summary>The job's timeout, from the call to the answer; <see langword="null"/> for none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How many times the job is queued again when its worker dies.</summary>
    public int MaxRetries { get; init; }

    /// <summary>How many times the job was sent to a worker.</summary>
    public int Attempts { get; set; }

    /// <summary>The frame that runs the job: one item, or a chunk of a map's items.</summary>
    public virtual FrameType InvokeFrame => FrameType.Invoke;

    /// <summary>How many of the caller's items the job carries (a map's chunk carries several).</summary>
    public virtual int ItemCount => 1;

    /// <summary>The caller's <see cref="IProgress{T}"/>, when the job takes one and the caller gave one.</summary>
    public object? ProgressSink { get; set; }

    /// <summary>Hands a progress report from the worker to the caller's sink, on the channel's reader loop (so in order).</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only a target made by JobTarget.FromDelegate (RequiresDynamicCode, warned at the caller) has a progress type; the source generator does not name jobs that report progress.")]
    public void ReportProgress(ReadOnlySequence<byte> payload, IJobSerializer serializer)
    {
        if (ProgressSink is not { } sink || IsFinished || Target.ProgressType is not { } valueType)
        {
            return;
        }

        ProgressReporters.For(valueType)(sink, serializer.Deserialize(payload, valueType));
    }

    /// <summary>The pool's telemetry, told when the job ends.</summary>
    public PoolTelemetry? Telemetry { get; set; }

    /// <inheritdoc />
    public Activity? Activity { get; set; }

    /// <inheritdoc />
    public Activity? TraceParent { get; set; }

    /// <inheritdoc />
    public long SubmittedAt { get; set; }

    /// <inheritdoc />
    public long DispatchedAt { get; set; }

    /// <summary>Starts the timeout clock (the call's start); <paramref name="onTimeout"/> runs once if it lapses before the answer.</summary>
    public void StartTimeout(TimeProvider timeProvider, Action<PendingJob> onTimeout)
    {
        if (Timeout is { } timeout)
        {
            _timeout = timeProvider.CreateTimer(
                static state =>
                {
                    var (callback, job) = ((Action<PendingJob>, PendingJob))state!;
                    callback(job);
                },
                (onTimeout, this),
                timeout,
                System.Threading.Timeout.InfiniteTimeSpan);
            if (IsFinished)
            {
                _timeout.Dispose(); // answered before the timer existed
            }
        }
    }

    /// <summary>Records that the job occupies room in the bounded queues, to give back when it leaves them.</summary>
    public void HoldQueueRoom(Action<PendingJob> onReleased)
    {
        _onRoomReleased = onReleased;
        Volatile.Write(ref _holdsQueueRoom, 1);
        if (IsFinished)
        {
            ReleaseQueueRoom();
        }
    }

    /// <summary>Records that a queue counts the job among its queued ones.</summary>
    public void CountIn(JobQueue queue)
    {
        _countedIn = queue;
        Volatile.Write(ref _counted, 1);
    }

    /// <summary>True for the one caller that takes the job out of its queue's count.</summary>
    public bool TryLeaveQueueCount() => Interlocked.Exchange(ref _counted, 0) == 1;

    /// <summary>Takes the job out of the queue for a worker; false when it was cancelled meanwhile.</summary>
    public bool TryDispatch()
    {
        if (Interlocked.CompareExchange(ref _state, Dispatched, Queued) != Queued)
        {
            return false;
        }

        ReleaseQueueRoom();
        return true;
    }

    /// <summary>Puts a dispatched job back in the queued state (its worker died before sending it).</summary>
    public bool ReturnToQueue() => Interlocked.CompareExchange(ref _state, Queued, Dispatched) == Dispatched;

    /// <summary>Ends the job with a result read from the child.</summary>
    public void Complete(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        if (MarkFinished(answeredByWorker: true))
        {
            try
            {
                OnCompleted(result, serializer);
            }
            catch (Exception exception)
            {
                OnFailed(new ProcessPoolException($"The result of job '{Target.Name}' could not be deserialized as {Target.ResultType}: {exception.Message}", exception));
            }
        }
    }

    /// <summary>Ends the job with an exception (a remote exception, a lost worker, a timeout, a closed pool).</summary>
    /// <param name="exception">What the caller gets.</param>
    /// <param name="answeredByWorker">Whether the worker sent this answer (so it has read the job's invoke frame).</param>
    public void Fail(Exception exception, bool answeredByWorker = false)
    {
        if (MarkFinished(answeredByWorker))
        {
            OnFailed(exception);
        }
    }

    /// <summary>Ends the job as cancelled by its caller.</summary>
    public void Cancel(CancellationToken cancellationToken)
    {
        if (MarkFinished(answeredByWorker: false))
        {
            OnCanceled(cancellationToken);
        }
    }

    /// <summary>Records the job's end in metrics and its span; subclasses call it just before they answer the caller.</summary>
    protected void RecordEnd(Exception? exception)
    {
        Telemetry?.OnFinished(this, exception);
        if (exception is not null and not OperationCanceledException && Telemetry is { } telemetry)
        {
            var worker = Worker;
            telemetry.Ledger.OnFailed(Id, JobName, Attempts, PoolTelemetry.OutcomeOf(exception), exception, worker?.ProcessId, worker?.StandardErrorTail() ?? []);
        }
    }

    /// <summary>Records the end of a chunk whose items ended differently.</summary>
    protected void RecordEnd(int succeeded, int failed, int cancelled) => Telemetry?.OnFinished(this, succeeded, failed, cancelled);

    protected abstract void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer);

    protected abstract void OnFailed(Exception exception);

    protected abstract void OnCanceled(CancellationToken cancellationToken);

    /// <summary>Frees what the job holds once its answer is given; retries need the arguments, so only here.</summary>
    /// <param name="argumentsMayBeInUse">
    /// The job was handed to a worker and answered by someone else (its caller, a timeout, its worker's
    /// death): its invoke frame may still sit in the worker's writer, so its buffer is left to the GC
    /// instead of going back to the pool, where a reuse would corrupt the frame.
    /// </param>
    protected virtual void Release(bool argumentsMayBeInUse)
    {
        _timeout?.Dispose();
        ReleaseQueueRoom();
        if (Interlocked.Exchange(ref _arguments, null) is { } rented && !argumentsMayBeInUse)
        {
            ChannelBuffers.Return(rented);
        }
    }

    private void ReleaseQueueRoom()
    {
        if (Interlocked.Exchange(ref _holdsQueueRoom, 0) == 1)
        {
            _onRoomReleased?.Invoke(this);
        }
    }

    private bool MarkFinished(bool answeredByWorker)
    {
        var previous = Interlocked.Exchange(ref _state, Finished);
        if (previous == Finished)
        {
            return false;
        }

        if (previous == Queued)
        {
            _countedIn?.Uncount(this);
        }

        Release(argumentsMayBeInUse: previous == Dispatched && !answeredByWorker);
        return true;
    }
}
