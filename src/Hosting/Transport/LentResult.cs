using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.Transport;

/// <summary>
/// A job's <see cref="IMemoryOwner{T}"/> result of bytes, lent to its caller (<see cref="LentBytes"/>: from 64 KiB, in
/// one of the process's reused channel buffers, not a new array), and taken back when the caller disposes it. A caller that never disposes it only loses the reuse: the buffer is then
/// collected like any array.
/// </summary>
internal sealed class LentResult : IMemoryOwner<byte>
{
    private byte[]? _buffer;
    private readonly int _length;

    private LentResult(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    /// <inheritdoc />
    public Memory<byte> Memory => Volatile.Read(ref _buffer) is { } buffer
        ? buffer.AsMemory(0, _length)
        : throw new ObjectDisposedException(nameof(IMemoryOwner<byte>), "The job's result was disposed: its buffer went back to the pool.");

    /// <summary>Whether results of <paramref name="type"/> read by <paramref name="serializer"/> are lent.</summary>
    public static bool Applies(Type type, IJobSerializer serializer) => type == typeof(IMemoryOwner<byte>) && serializer is JsonJobSerializer;

    /// <summary>
    /// Reads a result written by <see cref="JsonJobSerializer"/> (a byte 1 then the bytes, or a byte 0 for null): a
    /// large one into a lent buffer, a smaller one as the serializer would.
    /// </summary>
    public static IMemoryOwner<byte>? Read(ReadOnlySequence<byte> result, IJobSerializer serializer)
    {
        if (!LentBytes.IsLarge(result) || result.FirstSpan[0] != 1)
        {
            return serializer.Deserialize<IMemoryOwner<byte>?>(result);
        }

        var (buffer, length) = LentBytes.Copy(result);
        return new LentResult(buffer, length);
    }

    /// <summary>Gives the buffer back; the memory must not be used after.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ChannelBuffers.Return(buffer);
        }
    }
}
