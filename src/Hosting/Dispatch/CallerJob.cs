namespace ProcessPools.Dispatch;

/// <summary>
/// A job one caller awaits through a task (<see cref="SingleJob{TResult}"/>, <see cref="SerializedJob"/>), cancelled by
/// the caller's token: the answer's task, the token's registration, and the failed and cancelled answers.
/// </summary>
internal abstract class CallerJob<TResult> : PendingJob
{
    private readonly TaskCompletionSource<TResult> _completion;
    private CancellationTokenRegistration _registration;

    protected CallerJob(long id, JobTarget target, int targetNumber, byte[] arguments, int argumentsLength, TaskCreationOptions completionOptions)
        : base(id, target, targetNumber, arguments, argumentsLength)
    {
        _completion = new TaskCompletionSource<TResult>(completionOptions);
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
                    var (job, callback) = ((PendingJob, Action<PendingJob, CancellationToken>))state!;
                    callback(job, token);
                },
                ((PendingJob)this, onCanceled));
        }
    }

    /// <summary>Answers the caller with the job's value.</summary>
    protected void Answer(TResult value)
    {
        RecordEnd(null);
        _completion.TrySetResult(value);
    }

    protected override void OnFailed(Exception exception)
    {
        RecordEnd(exception);
        _completion.TrySetException(exception);
    }

    protected override void OnCanceled(CancellationToken cancellationToken)
    {
        RecordEnd(new OperationCanceledException(cancellationToken));
        _completion.TrySetCanceled(cancellationToken);
    }

    protected override void Release(bool argumentsMayBeInUse)
    {
        base.Release(argumentsMayBeInUse);
        _registration.Dispose();
    }
}
