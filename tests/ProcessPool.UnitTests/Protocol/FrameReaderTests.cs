using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.UnitTests.Protocol;

/// <summary>
/// The channel's read loop over a stream that hands out bytes in uneven pieces: frames small and large, back to back,
/// each read whole and intact across its buffer's changes (grown from the shared pool for a large frame, given back
/// and replaced by a small one after it, a partial frame carried over each time).
/// </summary>
public sealed class FrameReaderTests
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 32)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Frames_of_every_size_arrive_whole_and_in_order_however_the_stream_splits_them(int seed)
    {
        int[] sizes = [10, 70 * 1024, 3 << 20, 5, 200 * 1024, 1 << 20, 0, 64 * 1024, 64 * 1024 - 25, 2 << 20, 7, 100, 100, 1 << 20, 30, 30_000, 5, 3000];
        var bytes = new MemoryStream();
        var writer = new FrameWriter(bytes);
        for (var i = 0; i < sizes.Length; i++)
        {
            Assert.True(writer.TryWrite(new OutgoingFrame(FrameType.Result, i, Pattern(i, sizes[i]))));
        }

        writer.Flush();
        var received = new Received();
        await FrameReader.Start(new Trickle(bytes.ToArray(), seed), 4 << 20, received, "test reader").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(sizes.Length, received.Frames.Count);
        for (var i = 0; i < sizes.Length; i++)
        {
            Assert.Equal((FrameType.Result, (long)i), (received.Frames[i].Type, received.Frames[i].JobId));
            Assert.True(Pattern(i, sizes[i]).AsSpan().SequenceEqual(received.Frames[i].Payload), $"frame {i} ({sizes[i]} bytes) arrived changed");
        }
    }

    [Fact]
    public async Task A_frame_over_the_limit_ends_the_read_with_a_message_naming_the_limit()
    {
        var bytes = new MemoryStream();
        var writer = new FrameWriter(bytes);
        Assert.True(writer.TryWrite(new OutgoingFrame(FrameType.Result, 1, new byte[2048])));
        writer.Flush();

        var failure = await Assert.ThrowsAsync<InvalidDataException>(() => FrameReader.Start(new Trickle(bytes.ToArray(), 1), 1024, new Received(), "test reader"));
        Assert.Contains("MaxMessageSize", failure.Message);
    }

    private static byte[] Pattern(int frame, int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(frame * 31 + i * 7);
        }

        return bytes;
    }

    private sealed class Received : IFrameHandler
    {
        public List<(FrameType Type, long JobId, byte[] Payload)> Frames { get; } = [];

        public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload) => Frames.Add((type, jobId, payload.ToArray()));
    }

    /// <summary>A stream that answers each read with a piece of its own choosing, from 1 byte to all that was asked, as a pipe might.</summary>
    private sealed class Trickle(byte[] data, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var most = Math.Min(count, data.Length - _position);
            if (most == 0)
            {
                return 0;
            }

            var piece = _random.Next(3) switch { 0 => Math.Min(most, _random.Next(1, 16)), 1 => _random.Next(1, most + 1), _ => most };
            data.AsSpan(_position, piece).CopyTo(buffer.AsSpan(offset));
            _position += piece;
            return piece;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
