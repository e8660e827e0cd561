using System.Buffers;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Transport;

namespace ProcessPools.Dispatch;

/// <summary>One item of a map in a job of its own; answers its map with the item's value or error.</summary>
internal sealed class MapItemJob<TResult>(MapOperation<TResult> owner, int index, long id, JobTarget target, int targetNumber, byte[] arguments, int length)
    : PendingJob(id, target, targetNumber, arguments, length)
{
    public int Index { get; } = index;

    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        var value = JobPayloads.ResultOf<TResult>(Target, result, serializer);
        RecordEnd(null);
        owner.Observe(this);
        owner.Post(this, Index, value, null);
    }

    protected override void OnFailed(Exception exception)
    {
        RecordEnd(exception);
        owner.Post(this, Index, default, exception);
    }

    protected override void OnCanceled(CancellationToken cancellationToken)
    {
        var canceled = new OperationCanceledException("The map was cancelled.", null, cancellationToken);
        RecordEnd(canceled);
        owner.Post(this, Index, default, canceled);
    }
}

/// <summary>Consecutive items of a map in one job; the worker runs them one after the other and answers each (<see cref="ChunkAnswerPayload"/>).</summary>
internal sealed class MapChunkJob<TResult>(MapOperation<TResult> owner, int firstIndex, int count, long id, JobTarget target, int targetNumber, byte[] arguments, int length)
    : PendingJob(id, target, targetNumber, arguments, length)
{
    public override FrameType InvokeFrame => FrameType.InvokeMany;

    public override int ItemCount => count;

    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        // Everything is read before anything is posted: a chunk that cannot be read fails as a whole.
        var (values, errors, succeeded, failed, cancelled) = ChunkResults<TResult>.Read(result, count, Target, serializer);
        RecordEnd(succeeded, failed, cancelled);
        owner.Observe(this);
        owner.ObserveSize(count, ArgumentsLength + result.Length);
        if (errors is null)
        {
            owner.Post(this, firstIndex, values);
            return;
        }

        for (var i = 0; i < count; i++)
        {
            owner.Post(this, firstIndex + i, values[i], errors[i], last: i == count - 1);
        }
    }

    protected override void OnFailed(Exception exception)
    {
        RecordEnd(exception);
        for (var i = 0; i < count; i++)
        {
            owner.Post(this, firstIndex + i, default, exception, last: i == count - 1);
        }
    }

    protected override void OnCanceled(CancellationToken cancellationToken)
    {
        var canceled = new OperationCanceledException("The map was cancelled.", null, cancellationToken);
        RecordEnd(canceled);
        for (var i = 0; i < count; i++)
        {
            owner.Post(this, firstIndex + i, default, canceled, last: i == count - 1);
        }
    }
}
