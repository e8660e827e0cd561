using System.Buffers;
using System.IO.Pipelines;

namespace ProcessPools.Channels;

/// <summary>Receives the frames of a channel, one at a time, on the reader loop.</summary>
internal interface IFrameHandler
{
    /// <summary>
    /// Handles one frame. The payload is valid only during the call: copy or deserialize it before returning.
    /// Throwing ends the read loop with that exception (a malformed frame).
    /// </summary>
    void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload);
}

/// <summary>The read loop of a channel: event-driven, one pass over each buffer the pipe hands over.</summary>
internal static class FrameReader
{
    /// <summary>Reads frames until the stream ends (returns) or breaks or sends a bad frame (throws).</summary>
    public static async Task ReadAsync(Stream stream, int maxMessageSize, IFrameHandler handler, CancellationToken cancellationToken)
    {
        var pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        try
        {
            while (true)
            {
                var read = await pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                var consumed = Dispatch(buffer, maxMessageSize, handler);
                var leftover = buffer.Slice(consumed).Length;
                pipe.AdvanceTo(consumed, buffer.End);
                if (read.IsCompleted)
                {
                    if (leftover > 0)
                    {
                        throw new InvalidDataException("The channel ended in the middle of a frame.");
                    }

                    return;
                }
            }
        }
        finally
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static SequencePosition Dispatch(ReadOnlySequence<byte> buffer, int maxMessageSize, IFrameHandler handler)
    {
        Span<byte> headerBytes = stackalloc byte[FrameHeader.Size];
        var remaining = buffer;
        while (remaining.Length >= FrameHeader.Size)
        {
            remaining.Slice(0, FrameHeader.Size).CopyTo(headerBytes);
            var (length, type, jobId) = FrameHeader.Read(headerBytes);
            if (length < 0 || length > maxMessageSize)
            {
                throw new InvalidDataException($"A frame of type {type} announced {length} bytes, over the channel's limit of {maxMessageSize} bytes (MaxMessageSize).");
            }

            if (remaining.Length < FrameHeader.Size + (long)length)
            {
                break;
            }

            handler.OnFrame(type, jobId, remaining.Slice(FrameHeader.Size, length));
            remaining = remaining.Slice(FrameHeader.Size + (long)length);
        }

        return remaining.Start;
    }
}
