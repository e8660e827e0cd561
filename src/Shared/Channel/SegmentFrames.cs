using System.Buffers;
using System.Buffers.Binary;

namespace ProcessPools.Channels;

/// <summary>
/// The receiving side of shared-memory frames, in front of a channel's frame handler. A frame whose type carries
/// <see cref="InSegment"/> has, instead of its payload, <c>[segment number: int32][payload length: int32]</c>: the
/// payload is read from the other side's segment, mapped for the handler's call, and the segment is given back
/// with a <see cref="FrameType.ReleaseSegment"/> frame as soon as the handler returns (handlers copy or deserialize
/// what they keep). Release frames from the other side free this side's own segments.
/// </summary>
internal sealed class SegmentFrames : IFrameHandler
{
    /// <summary>The bit of a frame's type that says its payload is in a segment.</summary>
    public const byte InSegment = 0x80;

    /// <summary>The size of a reference to a segment.</summary>
    public const int ReferenceSize = 2 * sizeof(int);

    [ThreadStatic]
    private static List<Action>? t_deferred;

    private readonly IFrameHandler _inner;
    private readonly SharedMemoryPlan _plan;
    private readonly char _peer;
    private readonly OutgoingSegments _own;
    private readonly FrameWriter _writer;
    private readonly int _maxMessageSize;

    /// <param name="inner">The channel's own handler.</param>
    /// <param name="plan">The channel's plan.</param>
    /// <param name="peer">The other side's letter in segment names.</param>
    /// <param name="own">This side's segments, which release frames free.</param>
    /// <param name="writer">This side's writer, for release frames.</param>
    /// <param name="maxMessageSize">The largest payload accepted, as on the pipe.</param>
    public SegmentFrames(IFrameHandler inner, SharedMemoryPlan plan, char peer, OutgoingSegments own, FrameWriter writer, int maxMessageSize)
    {
        _inner = inner;
        _plan = plan;
        _peer = peer;
        _own = own;
        _writer = writer;
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>Writes a reference to a segment.</summary>
    public static void WriteReference(Span<byte> destination, int number, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, number);
        BinaryPrimitives.WriteInt32LittleEndian(destination[sizeof(int)..], length);
    }

    public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload)
    {
        if (type == FrameType.ReleaseSegment)
        {
            _own.Release(ReadNumber(payload, type));
            return;
        }

        if (((byte)type & InSegment) == 0)
        {
            _inner.OnFrame(type, jobId, payload);
            return;
        }

        var actual = (FrameType)((byte)type & ~InSegment);
        if (payload.Length != ReferenceSize)
        {
            throw new InvalidDataException($"A shared-memory frame of type {actual} carried {payload.Length} bytes instead of a segment reference.");
        }

        Span<byte> reference = stackalloc byte[ReferenceSize];
        payload.CopyTo(reference);
        var number = BinaryPrimitives.ReadInt32LittleEndian(reference);
        var length = BinaryPrimitives.ReadInt32LittleEndian(reference[sizeof(int)..]);
        if (length < 0 || length > _maxMessageSize)
        {
            throw new InvalidDataException($"A frame of type {actual} announced {length} bytes in shared memory, over the channel's limit of {_maxMessageSize} bytes (MaxMessageSize).");
        }

        SharedSegment? segment = null;
        t_deferred = [];
        try
        {
            segment = SharedSegment.Open(_plan, _peer, number, length);
            using var lease = segment.Acquire();
            _inner.OnFrame(actual, jobId, lease.Sequence(length));
        }
        finally
        {
            // Given back as soon as the handler has read it, even when it threw (the channel is likely over then), and
            // before the work it started begins: a job's answer then always follows the release of its arguments'
            // segment, which the parent's next message can reuse. Unmapping (slow for a large segment) comes after.
            var release = new byte[sizeof(int)];
            BinaryPrimitives.WriteInt32LittleEndian(release, number);
            _writer.TryWrite(new OutgoingFrame(FrameType.ReleaseSegment, 0, release));
            var deferred = t_deferred;
            t_deferred = null;
            foreach (var start in deferred)
            {
                start();
            }

            segment?.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="start"/> now, or, from the handler of a frame that came in a segment, once that segment's
    /// release is queued: work the frame starts (a job) then answers after the release, in the channel's order.
    /// </summary>
    public static void AfterRelease<TState>(Action<TState> start, TState state)
    {
        if (t_deferred is { } deferred)
        {
            deferred.Add(() => start(state));
            return;
        }

        start(state);
    }

    private static int ReadNumber(ReadOnlySequence<byte> payload, FrameType type)
    {
        if (payload.Length != sizeof(int))
        {
            throw new InvalidDataException($"A {type} frame of {payload.Length} bytes.");
        }

        Span<byte> number = stackalloc byte[sizeof(int)];
        payload.CopyTo(number);
        return BinaryPrimitives.ReadInt32LittleEndian(number);
    }
}
