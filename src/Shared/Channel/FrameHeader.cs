using System.Buffers.Binary;

namespace ProcessPools.Channels;

/// <summary>
/// A frame is <c>[payload length: int32][type: byte][job id: int64][payload]</c>, little-endian.
/// The length comes first so a reader knows the whole frame is there before it parses any of it.
/// </summary>
internal static class FrameHeader
{
    public const int Size = 13;

    public static void Write(Span<byte> destination, FrameType type, long jobId, int payloadLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, payloadLength);
        destination[4] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(destination[5..], jobId);
    }

    public static (int PayloadLength, FrameType Type, long JobId) Read(ReadOnlySpan<byte> source) =>
        (BinaryPrimitives.ReadInt32LittleEndian(source), (FrameType)source[4], BinaryPrimitives.ReadInt64LittleEndian(source[5..]));
}
