using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ProcessPools.Channels;

/// <summary>
/// Reads a payload's fields by offset over one span: what the per-item layouts of a map (a chunk's items, their answers)
/// are read with, in place of a <see cref="SequenceReader{T}"/>, whose slicing of a general sequence costs more than
/// reading the item itself when there is no tiered JIT to specialise it (Native AOT). Every frame the channel hands over
/// lies in one piece of memory (a pooled array, or a shared-memory segment); a payload in several pieces is copied into
/// one first. A blob comes back as a sequence over the same memory, made without slicing the payload's sequence.
/// </summary>
internal ref struct PayloadCursor
{
    private readonly ReadOnlySpan<byte> _span;
    private readonly byte[]? _array;
    private readonly int _arrayStart;
    private readonly ReadOnlyMemory<byte> _memory;
    private int _position;

    public PayloadCursor(ReadOnlySequence<byte> payload)
    {
        _memory = payload.IsSingleSegment ? payload.First : payload.ToArray();
        _span = _memory.Span;
        if (MemoryMarshal.TryGetArray(_memory, out var segment))
        {
            _array = segment.Array;
            _arrayStart = segment.Offset;
        }
    }

    private PayloadCursor(ReadOnlySpan<byte> span, byte[]? array, int arrayStart, ReadOnlyMemory<byte> memory)
    {
        _span = span;
        _array = array;
        _arrayStart = arrayStart;
        _memory = memory;
    }

    /// <summary>Gets how many bytes are left to read.</summary>
    public readonly int Remaining => _span.Length - _position;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per item of a map: Native AOT has no profile to find it hot
    public bool TryReadByte(out byte value)
    {
        if (_position >= _span.Length)
        {
            value = 0;
            return false;
        }

        value = _span[_position++];
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per item of a map: Native AOT has no profile to find it hot
    public bool TryReadInt32(out int value)
    {
        if (!BinaryPrimitives.TryReadInt32LittleEndian(_span[_position..], out value))
        {
            return false;
        }

        _position += sizeof(int);
        return true;
    }

    /// <summary>Reads a <see cref="LengthPrefix"/> blob as a cursor over it; false when truncated or the length is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per item of a map: Native AOT has no profile to find it hot
    public bool TryReadBlob(out PayloadCursor blob)
    {
        if (!TryReadBlobRange(out var start, out var length))
        {
            blob = default;
            return false;
        }

        blob = new PayloadCursor(_span.Slice(start, length), _array, _arrayStart + start, _array is null ? _memory.Slice(start, length) : default);
        return true;
    }

    /// <summary>Reads a <see cref="LengthPrefix"/> blob as a sequence; false when truncated or the length is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per item of a map: Native AOT has no profile to find it hot
    public bool TryReadBlob(out ReadOnlySequence<byte> blob)
    {
        if (!TryReadBlobRange(out var start, out var length))
        {
            blob = default;
            return false;
        }

        blob = Sequence(start, length);
        return true;
    }

    /// <summary>The bytes not read yet, as a sequence over the same memory.</summary>
    public readonly ReadOnlySequence<byte> RemainingSequence() => Sequence(_position, Remaining);

    /// <summary>Bytes of the payload as a sequence over the same memory (over the array itself where there is one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ReadOnlySequence<byte> Sequence(int start, int length) =>
        _array is not null ? new ReadOnlySequence<byte>(_array, _arrayStart + start, length) : new ReadOnlySequence<byte>(_memory.Slice(start, length));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // per item of a map: Native AOT has no profile to find it hot
    private bool TryReadBlobRange(out int start, out int length)
    {
        start = 0;
        if (!BinaryPrimitives.TryReadInt32LittleEndian(_span[_position..], out length) || length < 0 || length > _span.Length - _position - sizeof(int))
        {
            return false;
        }

        start = _position + sizeof(int);
        _position = start + length;
        return true;
    }
}
