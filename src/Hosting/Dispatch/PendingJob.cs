using System.Buffers;
using ProcessPools.Supervision;

namespace ProcessPools.Dispatch;

/// <summary>
/// A job the pool accepted: its serialized arguments, where it is (queued, dispatched, finished), and
/// how to answer its caller. Every pending job gets exactly one answer.
/// </summary>
internal abstract class PendingJob
{
    private const int Queued = 0;
    private const int Dispatched = 1;
    private const int Finished = 2;

    private byte[]? _arguments;
    private int _state;

    protected PendingJob(long id, JobTarget target, byte[] arguments, int argumentsLength)
    {
        Id = id;
        Target = target;
        _arguments = arguments;
        ArgumentsLength = argumentsLength;
    }

    public long Id { get; }

    public JobTarget Target { get; }

    public int ArgumentsLength { get; }

    public ReadOnlyMemory<byte> Arguments => _arguments.AsMemory(0, ArgumentsLength);

    /// <summary>The worker it was dispatched to, while it runs.</summary>
    public WorkerConnection? Worker { get; set; }

    public bool IsFinished => Volatile.Read(ref _state) == Finished;

    /// <summary>Completed once the job's invoke frame is handed to a worker's writer (one-off worker processes wait for it).</summary>
    public TaskCompletionSource? DispatchNotice { get; init; }

    /// <summary>Takes the job out of the queue for a worker; false when it was cancelled meanwhile.</summary>
    public bool TryDispatch() => Interlocked.CompareExchange(ref _state, Dispatched, Queued) == Queued;

    /// <summary>Puts a dispatched job back in the queued state (its worker died before sending it).</summary>
    public void ReturnToQueue() => Interlocked.CompareExchange(ref _state, Queued, Dispatched);

    /// <summary>Ends the job with a result read from the child.</summary>
    public void Complete(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        if (MarkFinished())
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

    /// <summary>Ends the job with an exception (a remote exception, a lost worker, a closed pool).</summary>
    public void Fail(Exception exception)
    {
        if (MarkFinished())
        {
            OnFailed(exception);
        }
    }

    /// <summary>Ends the job as cancelled by its caller.</summary>
    public void Cancel(CancellationToken cancellationToken)
    {
        if (MarkFinished())
        {
            OnCanceled(cancellationToken);
        }
    }

    protected abstract void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer);

    protected abstract void OnFailed(Exception exception);

    protected abstract void OnCanceled(CancellationToken cancellationToken);

    /// <summary>Frees what the job holds once its answer is given; retries would need the arguments, so only here.</summary>
    protected virtual void Release()
    {
        if (Interlocked.Exchange(ref _arguments, null) is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private bool MarkFinished()
    {
        if (Interlocked.Exchange(ref _state, Finished) == Finished)
        {
            return false;
        }

        Release();
        return true;
    }
}

/// <summary>A job from <c>ApplyAsync</c>: answered through a task.</summary>
internal sealed class SingleJob<TResult> : PendingJob
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _registration;

    public SingleJob(long id, JobTarget target, byte[] arguments, int argumentsLength)
        : base(id, target, arguments, argumentsLength)
    {
    }

    public Task<TResult> Task => _completion.Task;

    /// <summary>Listens to the caller's token once the job is in a queue.</summary>
    public void Watch(Action<PendingJob, CancellationToken> onCanceled, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(
                static (state, token) =>
                {
                    var (job, callback) = ((SingleJob<TResult>, Action<PendingJob, CancellationToken>))state!;
                    callback(job, token);
                },
                (this, onCanceled));
        }
    }

    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        var value = Target.ResultType == typeof(void) ? default : (TResult)serializer.Deserialize(result, Target.ResultType)!;
        _completion.TrySetResult(value!);
    }

    protected override void OnFailed(Exception exception) => _completion.TrySetException(exception);

    protected override void OnCanceled(CancellationToken cancellationToken) => _completion.TrySetCanceled(cancellationToken);

    protected override void Release()
    {
        base.Release();
        _registration.Dispose();
    }
}
