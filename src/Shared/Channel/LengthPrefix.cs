using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ProcessPools.Channels;

/// <summary>
/// A blob preceded by its length (int32, little-endian): how arguments, chunk items and chunk answers sit
/// inside a payload. The length is reserved first and filled in once the blob is written, so a value is
/// serialized straight into the frame's buffer.
/// </summary>
internal static class LengthPrefix
{
    public const int Size = sizeof(int);

    /// <summary>Reserves room for a length; returns where it is, for <see cref="End"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per item of a map
    public static int Begin(PooledBufferWriter buffer)
    {
        var at = buffer.WrittenCount;
        buffer.GetSpan(Size);
        buffer.Advance(Size);
        return at;
    }

    /// <summary>Fills in the length reserved at <paramref name="at"/> with what was written since.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void End(PooledBufferWriter buffer, int at) =>
        BinaryPrimitives.WriteInt32LittleEndian(buffer.WrittenSpan(at, Size), buffer.WrittenCount - at - Size);

    /// <summary>Writes a plain int32 (a count, a target number).</summary>
    public static void WriteInt32(IBufferWriter<byte> buffer, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(Size), value);
        buffer.Advance(Size);
    }

    /// <summary>Reads one length-prefixed blob; false when the payload is truncated or the length is negative.</summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> blob)
    {
        if (!reader.TryReadLittleEndian(out int length) || length < 0 || reader.Remaining < length)
        {
            blob = default;
            return false;
        }

        blob = reader.UnreadSequence.Slice(0, length);
        reader.Advance(length);
        return true;
    }
}
