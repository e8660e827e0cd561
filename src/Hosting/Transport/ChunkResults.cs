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
        if (target.ResultType != typeof(TResult) || LentResult.Applies(target.ResultType, serializer))
        {
            // No result (void), one read as another type, or one lent from a reused buffer: as a single job's result.
            return Read(answers, count, target, new SingleResultCodec(target, serializer));
        }

        return ValueCodec.Json(serializer) is { } json
            ? Read(answers, count, target, new JsonCodec<TResult>(json))
            : Read(answers, count, target, new DelegateReader<TResult>(serializer.Deserialize<TResult>));
    }

    private static ChunkResults<TResult> Read<TCodec>(ReadOnlySequence<byte> answers, int count, JobTarget target, TCodec codec)
        where TCodec : struct, IValueReader<TResult>
    {
        var values = new TResult[count];
        Exception?[]? errors = null;
        int succeeded = 0, failed = 0, cancelled = 0;
        var reader = new PayloadCursor(answers);
        for (var i = 0; i < count; i++)
        {
            switch (ChunkAnswerPayload.ReadItem(ref reader, target.Name, out var blob))
            {
                case ItemStatus.Succeeded:
                    values[i] = codec.Read(blob);
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

    /// <summary>An item's result read as a single job's is (<see cref="JobPayloads.ResultOf{TResult}"/>).</summary>
    private readonly struct SingleResultCodec(JobTarget target, IJobSerializer serializer) : IValueReader<TResult>
    {
        public TResult Read(ReadOnlySequence<byte> source) => JobPayloads.ResultOf<TResult>(target, source, serializer);
    }
}
