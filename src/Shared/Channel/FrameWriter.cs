using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace ProcessPools.Channels;

/// <summary>
/// The writer of a channel. A producer writes its frame itself, with a blocking write, when nobody else
/// is writing; while someone is, frames queue up and that writer sends them all in one write. So a lone
/// frame goes out with no thread hop, and a burst costs one system call. Channel reader threads never
/// write themselves (the other side may be blocked writing to them): their frames go out from the
/// thread pool.
/// </summary>
internal sealed class FrameWriter
{
    private const int BufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly OutgoingSegments? _segments;
    private readonly PipeCapacity? _capacity;
    private readonly ConcurrentQueue<OutgoingFrame> _frames = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _writing;
    private int _flushScheduled;
    private volatile bool _completing;
    private volatile bool _broken;

    /// <param name="stream">The channel's pipe.</param>
    /// <param name="segments">Where frames of <see cref="OutgoingSegments.Threshold"/> bytes or more go instead of the pipe; null for none.</param>
    /// <param name="capacity">The pipe's capacity, grown before its first large frame; null to leave it as it is.</param>
    public FrameWriter(Stream stream, OutgoingSegments? segments = null, PipeCapacity? capacity = null)
    {
        _stream = stream;
        _segments = segments;
        _capacity = capacity;
    }

    /// <summary>Ends when the writer is completed and drained, or faults when the stream breaks.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Sends a frame; false when the writer is closed or broken (the frame's pooled buffer is then returned here).</summary>
    public bool TryWrite(OutgoingFrame frame)
    {
        if (_completing || _broken)
        {
            Return(frame);
            return false;
        }

        _frames.Enqueue(frame);
        Drain();
        return true;
    }

    /// <summary>
    /// Queues a frame without writing it: a producer with more frames to come posts them all, then calls
    /// <see cref="Flush"/> once, so the burst goes out in one write.
    /// </summary>
    public bool Post(OutgoingFrame frame)
    {
        if (_completing || _broken)
        {
            Return(frame);
            return false;
        }

        _frames.Enqueue(frame);
        return true;
    }

    /// <summary>Writes what is queued (on this thread, unless another thread is writing or this is a reader thread).</summary>
    public void Flush() => Drain();

    /// <summary>
    /// Writes what is queued from the thread pool, once for all frames posted until that write starts: for
    /// reader threads, which must not write, and for producers that should not wait for the write.
    /// </summary>
    public void FlushLater()
    {
        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static writer =>
                {
                    Volatile.Write(ref writer._flushScheduled, 0); // before the drain: a frame posted during it schedules another
                    writer.Drain();
                },
                this,
                preferLocal: false);
        }
    }

    /// <summary>Takes no more frames; what is queued is still written, then <see cref="Completion"/> ends.</summary>
    public void Complete()
    {
        _completing = true;
        Drain();
    }

    private static void Return(in OutgoingFrame frame)
    {
        if (frame.ReturnToPool is { } rented)
        {
            ChannelBuffers.Return(rented);
        }
    }

    private void Drain()
    {
        while (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            if (FrameReader.IsReaderThread && !_frames.IsEmpty)
            {
                Volatile.Write(ref _writing, 0);
                FlushLater();
                return;
            }

            try
            {
                WriteQueued();
            }
            catch (Exception exception)
            {
                _broken = true;
                while (_frames.TryDequeue(out var dropped))
                {
                    Return(dropped);
                }

                _completion.TrySetException(exception);
                return; // _writing stays set: nothing is written after a failure
            }

            Volatile.Write(ref _writing, 0);
            if (_frames.IsEmpty)
            {
                if (_completing)
                {
                    _completion.TrySetResult();
                }

                return;
            }

            // A frame came in after the last dequeue and before the flag was released: write it too.
        }
    }

    private void WriteQueued()
    {
        var length = 0;
        while (_frames.TryDequeue(out var frame))
        {
            try
            {
                // A large frame in shared memory: the pipe carries its header and the segment's number.
                if (_segments is { } segments && frame.PayloadLength >= segments.Threshold && segments.TryPlace(frame, out var number))
                {
                    if (length + FrameHeader.Size + SegmentFrames.ReferenceSize > BufferSize)
                    {
                        _stream.Write(_buffer, 0, length);
                        length = 0;
                    }

                    FrameHeader.Write(_buffer.AsSpan(length), (FrameType)((byte)frame.Type | SegmentFrames.InSegment), frame.JobId, SegmentFrames.ReferenceSize);
                    SegmentFrames.WriteReference(_buffer.AsSpan(length + FrameHeader.Size), number, frame.PayloadLength);
                    length += FrameHeader.Size + SegmentFrames.ReferenceSize;
                    continue;
                }

                var size = FrameHeader.Size + frame.PayloadLength;
                _capacity?.Ensure(size);
                if (length > 0 && length + size > BufferSize)
                {
                    _stream.Write(_buffer, 0, length);
                    length = 0;
                }

                var header = _buffer.AsSpan(length);
                FrameHeader.Write(header, frame.Type, frame.JobId, frame.PayloadLength);
                var at = length + FrameHeader.Size;
                if (frame.Prefix is { } prefix)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(at), prefix);
                    at += sizeof(int);
                }

                if (size <= BufferSize)
                {
                    frame.Payload.Span.CopyTo(_buffer.AsSpan(at));
                    length = at + frame.Payload.Length;
                }
                else
                {
                    // Larger than the buffer: its header, then its payload straight from where it is.
                    _stream.Write(_buffer, 0, at);
                    _stream.Write(frame.Payload.Span);
                    length = 0;
                }
            }
            finally
            {
                Return(frame);
            }
        }

        if (length > 0)
        {
            _stream.Write(_buffer, 0, length);
        }
    }
}
