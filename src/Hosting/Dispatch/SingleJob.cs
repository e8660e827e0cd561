using System.Buffers;

namespace ProcessPools.Dispatch;

/// <summary>A job from <c>ApplyAsync</c>: answered through a task.</summary>
internal sealed class SingleJob<TResult> : PendingJob
{
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _registration;

    public SingleJob(long id, JobTarget target, int targetNumber, byte[] arguments, int argumentsLength)
        : base(id, target, targetNumber, arguments, argumentsLength)
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
        RecordEnd(null);
        _completion.TrySetResult(value!);
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
