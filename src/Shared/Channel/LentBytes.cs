using System.Buffers;

namespace ProcessPools.Channels;

/// <summary>
/// Binary data of the default serializer's format (a marker byte <c>1</c>, then the bytes) copied into one of the
/// process's reused channel buffers instead of a new array whose pages the kernel must zero each time: what a worker
/// lends a job as a memory argument and what a caller gets as an <see cref="IMemoryOwner{T}"/> result.
/// </summary>
internal static class LentBytes
{
    /// <summary>From this many bytes data is lent (smaller arrays cost little to make).</summary>
    public const int MinimumLength = 64 * 1024;

    /// <summary>Whether <paramref name="blob"/> holds enough bytes after its marker to be lent.</summary>
    public static bool IsLarge(ReadOnlySequence<byte> blob) => blob.Length - 1 >= MinimumLength;

    /// <summary>Copies the bytes after the marker into a rented channel buffer; give it back with <see cref="ChannelBuffers.Return"/>.</summary>
    public static (byte[] Buffer, int Length) Copy(ReadOnlySequence<byte> blob)
    {
        var length = checked((int)(blob.Length - 1));
        var buffer = ChannelBuffers.Rent(length);
        blob.Slice(1).CopyTo(buffer);
        return (buffer, length);
    }
}
