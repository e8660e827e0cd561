using System.Buffers;
using System.Runtime.CompilerServices;

namespace ProcessPools.Channels;

/// <summary>An <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool; whoever detaches the array returns it.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = 256) => _buffer = ChannelBuffers.Rent(initialCapacity);

    public int WrittenCount => _written;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public void Advance(int count) => _written += count;

    /// <summary>Drops what was written after <paramref name="length"/> bytes (a value that failed half-way).</summary>
    public void Truncate(int length) => _written = Math.Min(_written, length);

    /// <summary>A part of what was written, to patch (a length written before its data).</summary>
    public Span<byte> WrittenSpan(int offset, int length) => _buffer.AsSpan(0, _written).Slice(offset, length);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    // The room check inlines into a map's per-item writes; growing stays out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Hands over the array (the caller returns it to the pool); the writer is then empty.</summary>
    public (byte[] Array, int Length) Detach()
    {
        var result = (_buffer, _written);
        _buffer = [];
        _written = 0;
        return result;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ChannelBuffers.Return(_buffer);
            _buffer = [];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - _written < Math.Max(sizeHint, 1))
        {
            Grow(Math.Max(sizeHint, 1));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int sizeHint)
    {
        var grown = ChannelBuffers.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
        _buffer.AsSpan(0, _written).CopyTo(grown);
        if (_buffer.Length > 0)
        {
            ChannelBuffers.Return(_buffer);
        }

        _buffer = grown;
    }
}
