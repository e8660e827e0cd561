using System.Buffers;
using ProcessPools.Channels;
using ProcessPools.Protocol;

namespace ProcessPools.Transport;

/// <summary>
/// The answers of a chunk of a map's items, as a worker gave them: each item's value and, only when an item failed or was
/// cancelled, the items' exceptions (a <see cref="RemoteJobException"/> for a job that threw, an
/// <see cref="OperationCanceledException"/> for one cancelled in its worker).
/// </summary>
/// <typeparam name="TResult">The job's result type.</typeparam>
/// <param name="Values">The items' results in input order; the entry of an item that did not succeed is the default.</param>
/// <param name="Errors">Each item's exception where it did not succeed; <see langword="null"/> when every item succeeded.</param>
/// <param name="Succeeded">How many items succeeded.</param>
/// <param name="Failed">How many items failed.</param>
/// <param name="Cancelled">How many items were cancelled.</param>
public readonly record struct ChunkResults<TResult>(TResult[] Values, Exception?[]? Errors, int Succeeded, int Failed, int Cancelled)
{
    /// <summary>Reads <paramref name="count"/> answers; throws when they cannot be read as the job's results.</summary>
    internal static ChunkResults<TResult> Read(ReadOnlySequence<byte> answers, int count, JobTarget target, IJobSerializer serializer)
    {
        var values = new TResult[count];
        Exception?[]? errors = null;
        int succeeded = 0, failed = 0, cancelled = 0;
        var reader = new PayloadCursor(answers);
        var hasResult = target.ResultType != typeof(void);
        // Resolved once per chunk: a generic interface method is looked up at each call, a delegate is not.
        Func<ReadOnlySequence<byte>, TResult>? typed = hasResult && target.ResultType == typeof(TResult) ? serializer.Deserialize<TResult> : null;
        for (var i = 0; i < count; i++)
        {
            switch (ChunkAnswerPayload.ReadItem(ref reader, target.Name, out var blob))
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
