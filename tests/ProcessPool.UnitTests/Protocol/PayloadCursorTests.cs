using System.Buffers;
using System.Buffers.Binary;
using ProcessPools.Channels;

namespace ProcessPools.UnitTests.Protocol;

/// <summary>
/// The cursor a map's items and answers are read with: the same fields whatever memory the payload lies in (a pooled
/// array at an offset, a shared-memory segment, several pieces), and a truncated or negative length refused.
/// </summary>
public sealed class PayloadCursorTests
{
    public static TheoryData<string> Memories => ["array at an offset", "memory manager", "three pieces"];

    [Theory]
    [MemberData(nameof(Memories))]
    public void Reads_ints_bytes_and_nested_blobs_from_any_memory(string memory)
    {
        // [7][0x2A][blob: [blob: "ab"][blob: ""]][blob: "xyz"]
        var inner = Concat(Blob("ab"u8), Blob([]));
        var payload = Concat(Int(7), [0x2A], Blob(inner), Blob("xyz"u8));
        var cursor = new PayloadCursor(Sequence(payload, memory));

        Assert.True(cursor.TryReadInt32(out var number));
        Assert.True(cursor.TryReadByte(out var status));
        Assert.True(cursor.TryReadBlob(out PayloadCursor nested));
        Assert.True(nested.TryReadBlob(out ReadOnlySequence<byte> ab));
        Assert.True(nested.TryReadBlob(out ReadOnlySequence<byte> empty));
        Assert.Equal(0, nested.Remaining);
        Assert.Equal(7, cursor.Remaining);
        var rest = cursor.RemainingSequence();
        Assert.True(cursor.TryReadBlob(out ReadOnlySequence<byte> xyz));

        Assert.Equal((7, (byte)0x2A), (number, status));
        Assert.Equal("ab"u8.ToArray(), ab.ToArray());
        Assert.Equal(0, empty.Length);
        Assert.Equal("xyz"u8.ToArray(), xyz.ToArray());
        Assert.Equal(Blob("xyz"u8), rest.ToArray());
        Assert.Equal(0, cursor.Remaining);
        Assert.False(cursor.TryReadByte(out _));
        Assert.False(cursor.TryReadInt32(out _));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)] // one byte more than there is
    [InlineData(int.MaxValue)]
    public void A_blob_whose_length_does_not_fit_is_refused_and_nothing_is_consumed(int length)
    {
        var cursor = new PayloadCursor(new ReadOnlySequence<byte>(Concat(Int(length), "abc"u8.ToArray())));

        Assert.False(cursor.TryReadBlob(out ReadOnlySequence<byte> _));
        Assert.False(cursor.TryReadBlob(out PayloadCursor _));
        Assert.Equal(7, cursor.Remaining);
    }

    [Fact]
    public void A_length_cut_short_is_refused()
    {
        var cursor = new PayloadCursor(new ReadOnlySequence<byte>([1, 0, 0]));

        Assert.False(cursor.TryReadInt32(out _));
        Assert.False(cursor.TryReadBlob(out ReadOnlySequence<byte> _));
    }

    private static ReadOnlySequence<byte> Sequence(byte[] payload, string memory)
    {
        switch (memory)
        {
            case "array at an offset":
                var padded = new byte[payload.Length + 10];
                payload.CopyTo(padded, 3);
                return new ReadOnlySequence<byte>(padded, 3, payload.Length);
            case "memory manager":
                return new ReadOnlySequence<byte>(new NotAnArray(payload).Memory);
            default:
                return Pieces.Of(payload, 3, 8);
        }
    }

    private static byte[] Int(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Blob(ReadOnlySpan<byte> content) => Concat(Int(content.Length), content.ToArray());

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>Memory that is not an array, as a shared-memory segment's is.</summary>
    private sealed class NotAnArray(byte[] bytes) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => bytes;

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

        public override void Unpin()
        {
        }

        protected override bool TryGetArray(out ArraySegment<byte> segment)
        {
            segment = default;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
