using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace ProcessPools.Channels;

/// <summary>
/// The one writer of a channel. Producers on any thread post frames; a single loop drains every frame
/// that is waiting into the pipe and flushes once, so a burst of results or jobs costs one write.
/// </summary>
internal sealed class FrameWriter
{
    // Flush part-way through a long burst so one slow reader cannot make us buffer without bound.
    private const int FlushThreshold = 256 * 1024;

    private readonly Channel<OutgoingFrame> _frames = Channel.CreateUnbounded<OutgoingFrame>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly PipeWriter _pipe;

    public FrameWriter(Stream stream)
    {
        _pipe = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true, minimumBufferSize: 16 * 1024));
        Completion = Task.Run(RunAsync);
    }

    /// <summary>Ends when the writer is completed and drained, or faults when the stream breaks.</summary>
    public Task Completion { get; }

    /// <summary>Posts a frame; false when the writer is closed (the frame's pooled buffer is then returned here).</summary>
    public bool TryWrite(OutgoingFrame frame)
    {
        if (_frames.Writer.TryWrite(frame))
        {
            return true;
        }

        Return(frame);
        return false;
    }

    /// <summary>Stops taking frames; the loop writes what is queued and ends.</summary>
    public void Complete() => _frames.Writer.TryComplete();

    private static void Return(in OutgoingFrame frame)
    {
        if (frame.ReturnToPool is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private async Task RunAsync()
    {
        var reader = _frames.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var pending = 0L;
                while (reader.TryRead(out var frame))
                {
                    pending += WriteFrame(frame);
                    if (pending >= FlushThreshold)
                    {
                        pending = 0;
                        if ((await _pipe.FlushAsync().ConfigureAwait(false)).IsCompleted)
                        {
                            return;
                        }
                    }
                }

                if ((await _pipe.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            _frames.Writer.TryComplete();
            while (reader.TryRead(out var dropped))
            {
                Return(dropped);
            }

            await _pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    private int WriteFrame(in OutgoingFrame frame)
    {
        try
        {
            var header = _pipe.GetSpan(FrameHeader.Size + sizeof(int));
            FrameHeader.Write(header, frame.Type, frame.JobId, frame.PayloadLength);
            var written = FrameHeader.Size;
            if (frame.Prefix is { } prefix)
            {
                BinaryPrimitives.WriteInt32LittleEndian(header[written..], prefix);
                written += sizeof(int);
            }

            _pipe.Advance(written);
            _pipe.Write(frame.Payload.Span);
            return written + frame.Payload.Length;
        }
        finally
        {
            Return(frame);
        }
    }
}
