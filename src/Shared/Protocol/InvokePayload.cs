using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.Protocol;

/// <summary>
/// The <see cref="FrameType.Invoke"/> payload: <c>[target number: int32][argument]*</c>, each argument a
/// length-prefixed blob of the job serializer's bytes. An <see cref="IProgress{T}"/> argument is not sent:
/// its blob is <c>[1]</c> when the caller passed a sink (the worker then sends reports back) and empty otherwise.
/// </summary>
/// <remarks>
/// The parent writes the arguments into a buffer of their own; the frame writer puts the target number in
/// front (<see cref="OutgoingFrame.Prefix"/>), so the same buffer serves a retry on another worker, whose
/// number for the target may differ.
/// </remarks>
internal static class InvokePayload
{
    private const byte ProgressConnected = 1;

    public static OutgoingFrame Frame(FrameType type, long jobId, int targetNumber, ReadOnlyMemory<byte> arguments) =>
        new(type, jobId, arguments, Prefix: targetNumber);

    /// <summary>Starts an argument: the serializer writes it next, <see cref="EndArgument"/> closes it.</summary>
    public static int BeginArgument(PooledBufferWriter buffer) => LengthPrefix.Begin(buffer);

    public static void EndArgument(PooledBufferWriter buffer, int at) => LengthPrefix.End(buffer, at);

    /// <summary>Writes the stand-in for an <see cref="IProgress{T}"/> argument.</summary>
    public static void WriteProgressArgument(PooledBufferWriter buffer, bool connected)
    {
        var at = BeginArgument(buffer);
        if (connected)
        {
            buffer.GetSpan(1)[0] = ProgressConnected;
            buffer.Advance(1);
        }

        EndArgument(buffer, at);
    }

    public static int ReadTarget(ref SequenceReader<byte> reader) =>
        reader.TryReadLittleEndian(out int target) ? target : throw new InvalidDataException("An invoke frame without a target.");

    /// <summary>Reads the next argument's bytes.</summary>
    public static ReadOnlySequence<byte> ReadArgument(ref SequenceReader<byte> reader, string jobName) =>
        LengthPrefix.TryRead(ref reader, out var blob) ? blob : throw new InvalidDataException($"The arguments of job '{jobName}' are truncated.");

    /// <summary>Reads the next argument's bytes from a chunk's item.</summary>
    public static ReadOnlySequence<byte> ReadArgument(ref PayloadCursor reader, string jobName) =>
        reader.TryReadBlob(out ReadOnlySequence<byte> blob) ? blob : throw new InvalidDataException($"The arguments of job '{jobName}' are truncated.");

    /// <summary>Whether an <see cref="IProgress{T}"/> argument's blob says the caller passed a sink.</summary>
    public static bool IsProgressConnected(ReadOnlySequence<byte> blob) => blob.Length > 0;
}
