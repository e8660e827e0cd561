using System.Buffers;
using ProcessPools.Channels;
using ProcessPools.Protocol;

namespace ProcessPools.Dispatch;

/// <summary>One item of a map in a job of its own; answers its map with the item's value or error.</summary>
internal sealed class MapItemJob<TResult>(MapOperation<TResult> owner, int index, long id, JobTarget target, int targetNumber, byte[] arguments, int length)
    : PendingJob(id, target, targetNumber, arguments, length)
{
    public int Index { get; } = index;

    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        var value = Target.ResultType == typeof(void) ? default : (TResult?)serializer.Deserialize(result, Target.ResultType);
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
        var (values, errors, succeeded, failed, cancelled) = ChunkAnswers<TResult>.Read(result, count, Target, serializer);
        RecordEnd(succeeded, failed, cancelled);
        owner.Observe(this);
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

/// <summary>
/// A chunk's answers (<see cref="ChunkAnswerPayload"/>) read into the items' values and, only when an item failed or was
/// cancelled, their exceptions: for a local map's chunk and for a cluster map's.
/// </summary>
internal readonly record struct ChunkAnswers<TResult>(TResult[] Values, Exception?[]? Errors, int Succeeded, int Failed, int Cancelled)
{
    /// <summary>Reads <paramref name="count"/> answers; throws when they cannot be read as the job's results.</summary>
    public static ChunkAnswers<TResult> Read(ReadOnlySequence<byte> answers, int count, JobTarget target, IJobSerializer serializer)
    {
        var values = new TResult[count];
        Exception?[]? errors = null;
        int succeeded = 0, failed = 0, cancelled = 0;
        var reader = new SequenceReader<byte>(answers);
        var hasResult = target.ResultType != typeof(void);
        // Resolved once per chunk: a generic interface method is looked up at each call, a delegate is not.
        Func<ReadOnlySequence<byte>, TResult>? typed = hasResult && target.ResultType == typeof(TResult) ? serializer.Deserialize<TResult> : null;
        for (var i = 0; i < count; i++)
        {
            var (status, blob) = ChunkAnswerPayload.ReadItem(ref reader, target.Name);
            switch (status)
            {
                case ItemStatus.Succeeded:
                    values[i] = typed is not null ? typed(blob)
                        : hasResult ? (TResult)serializer.Deserialize(blob, target.ResultType)! : default!;
                    succeeded++;
                    break;
                case ItemStatus.Failed:
                    (errors ??= new Exception?[count])[i] = FaultPayload.Decode(blob).ToException(target.Name);
                    failed++;
                    break;
                default:
                    (errors ??= new Exception?[count])[i] = new OperationCanceledException("The job was cancelled in its worker process.");
                    cancelled++;
                    break;
            }
        }

        return new(values, errors, succeeded, failed, cancelled);
    }
}
