using System.Buffers;

namespace ProcessPools;

/// <summary>
/// An <see cref="IMemoryOwner{T}"/> read by <see cref="JsonJobSerializer"/> where no pooled buffer was at hand: it owns
/// an array of its own, which disposing only lets go of.
/// </summary>
internal sealed class ArrayMemoryOwner(byte[] array) : IMemoryOwner<byte>
{
    private byte[]? _array = array;

    public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(IMemoryOwner<byte>), "The memory was disposed.");

    public void Dispose() => _array = null;
}
