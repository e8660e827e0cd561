using System.Buffers;
using System.Runtime.CompilerServices;
using ProcessPools.Channels;

namespace ProcessPools.Protocol;

/// <summary>
/// The <see cref="FrameType.InvokeMany"/> payload, a chunk of a map's consecutive items in one frame:
/// <c>[target number: int32][count: int32][item]*</c>, each item a length-prefixed blob holding that item's
/// arguments as an <see cref="InvokePayload"/> holds a job's. The target number is the frame's prefix, as for
/// an invoke frame. Answered by one <see cref="FrameType.Result"/> frame in the <see cref="ChunkAnswerPayload"/> layout.
/// </summary>
internal static class ChunkPayload
{
    public static void WriteCount(PooledBufferWriter buffer, int count) => LengthPrefix.WriteInt32(buffer, count);

    public static int BeginItem(PooledBufferWriter buffer) => LengthPrefix.Begin(buffer);

    public static void EndItem(PooledBufferWriter buffer, int at) => LengthPrefix.End(buffer, at);

    public static (int Target, int Count) ReadHeader(ref PayloadCursor reader) =>
        reader.TryReadInt32(out var target) && reader.TryReadInt32(out var count) && count >= 0
            ? (target, count)
            : throw new InvalidDataException("A malformed chunk frame.");

    /// <summary>A cursor over the next item's arguments.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PayloadCursor ReadItem(ref PayloadCursor reader, string jobName) =>
        reader.TryReadBlob(out PayloadCursor item) ? item : throw Truncated(jobName);

    private static InvalidDataException Truncated(string jobName) => new($"The chunk of job '{jobName}' is truncated.");
}

/// <summary>How one item of a chunk ended, as its answer says.</summary>
internal enum ItemStatus : byte
{
    /// <summary>The blob is the item's result (empty for a job without one).</summary>
    Succeeded = 0,

    /// <summary>The blob is a <see cref="FaultPayload"/>.</summary>
    Failed = 1,

    /// <summary>The item was cancelled; the blob is empty.</summary>
    Cancelled = 2,
}

/// <summary>
/// The answer to a chunk: per item, in order, <c>[status: <see cref="ItemStatus"/>][length: int32][blob]</c>.
/// The worker writes each item's result straight into the answer, then fills in its status and length.
/// </summary>
internal static class ChunkAnswerPayload
{
    private const int HeaderSize = 1 + LengthPrefix.Size;

    /// <summary>Starts an item's answer; its result may be written next.</summary>
    public static int BeginItem(PooledBufferWriter answers)
    {
        var at = answers.WrittenCount;
        answers.GetSpan(HeaderSize);
        answers.Advance(HeaderSize);
        return at;
    }

    /// <summary>Closes an item whose result was written since <see cref="BeginItem"/>.</summary>
    public static void EndSucceeded(PooledBufferWriter answers, int at) => End(answers, at, ItemStatus.Succeeded);

    /// <summary>Replaces whatever the item wrote with its fault.</summary>
    public static void EndFailed(PooledBufferWriter answers, int at, Exception exception)
    {
        answers.Truncate(at + HeaderSize);
        FaultPayload.Write(answers, exception);
        End(answers, at, ItemStatus.Failed);
    }

    /// <summary>Replaces whatever the item wrote with the cancelled mark.</summary>
    public static void EndCancelled(PooledBufferWriter answers, int at)
    {
        answers.Truncate(at + HeaderSize);
        End(answers, at, ItemStatus.Cancelled);
    }

    /// <summary>Reads the next item's answer; throws <see cref="InvalidDataException"/> for a truncated one or an unknown status.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ItemStatus ReadItem(ref PayloadCursor reader, string jobName, out ReadOnlySequence<byte> blob)
    {
        if (!reader.TryReadByte(out var status) || !reader.TryReadBlob(out blob))
        {
            throw Truncated(jobName);
        }

        return status <= (byte)ItemStatus.Cancelled ? (ItemStatus)status : throw UnknownStatus(jobName, status);
    }

    private static InvalidDataException Truncated(string jobName) => new($"The answers of a chunk of job '{jobName}' are truncated.");

    private static InvalidDataException UnknownStatus(string jobName, byte status) => new($"The answers of a chunk of job '{jobName}' hold the unknown item status {status}.");

    private static void End(PooledBufferWriter answers, int at, ItemStatus status)
    {
        answers.WrittenSpan(at, 1)[0] = (byte)status;
        LengthPrefix.End(answers, at + 1);
    }
}
