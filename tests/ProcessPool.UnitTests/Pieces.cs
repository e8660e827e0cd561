using System.Buffers;

namespace ProcessPools.UnitTests;

/// <summary>A sequence in several pieces, as a reader that is not the channel's may hand over (the channel's frames are in one).</summary>
internal static class Pieces
{
    /// <summary>The bytes, cut before each of <paramref name="cuts"/> (ascending offsets).</summary>
    public static ReadOnlySequence<byte> Of(byte[] bytes, params int[] cuts)
    {
        var bounds = cuts.Append(bytes.Length).ToArray();
        var first = new Piece(bytes.AsMemory(0, bounds[0]), 0);
        var last = first;
        for (var i = 1; i < bounds.Length; i++)
        {
            last = last.Append(bytes.AsMemory(bounds[i - 1], bounds[i] - bounds[i - 1]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory, long runningIndex) => (Memory, RunningIndex) = (memory, runningIndex);

        public Piece Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Piece(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
