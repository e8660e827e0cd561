using System.Buffers;

namespace ProcessPools.Channels;

/// <summary>Receives the frames of a channel, one at a time, on the reader thread.</summary>
internal interface IFrameHandler
{
    /// <summary>
    /// Handles one frame. The payload is valid only during the call: copy or deserialize it before returning.
    /// Throwing ends the read loop with that exception (a malformed frame). Must not block: the channel's
    /// other direction may be waiting for this side to read.
    /// </summary>
    void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload);
}

/// <summary>
/// The read loop of a channel, on a thread of its own doing blocking reads: a frame is handled the
/// moment its last byte arrives, without a hop through the I/O poller and the thread pool (measured
/// here: that hop was most of a round trip's cost over an anonymous pipe).
/// </summary>
internal static class FrameReader
{
    private const int InitialBuffer = 64 * 1024;

    [ThreadStatic]
    private static bool t_isReaderThread;

    /// <summary>Whether the current thread is a channel's reader, which must never block on a write.</summary>
    public static bool IsReaderThread => t_isReaderThread;

    /// <summary>
    /// Starts reading on a new background thread; the task ends when the stream ends, or faults when it breaks or sends
    /// a bad frame. A <paramref name="capacity"/> given is grown when the pipe's first large frame is announced.
    /// </summary>
    public static Task Start(Stream stream, int maxMessageSize, IFrameHandler handler, string threadName, PipeCapacity? capacity = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            t_isReaderThread = true;
            try
            {
                Read(stream, maxMessageSize, handler, capacity);
                done.TrySetResult();
            }
            catch (Exception exception)
            {
                done.TrySetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = threadName,
        };
        thread.Start();
        return done.Task;
    }

    private static void Read(Stream stream, int maxMessageSize, IFrameHandler handler, PipeCapacity? capacity)
    {
        var home = new byte[InitialBuffer]; // the loop's own buffer, kept for its life; larger ones are rented
        var buffer = home;
        int start = 0, end = 0;
        while (true)
        {
            var needed = FrameHeader.Size;
            while (end - start >= FrameHeader.Size)
            {
                var (length, type, jobId) = FrameHeader.Read(buffer.AsSpan(start, FrameHeader.Size));
                if (length < 0 || length > maxMessageSize)
                {
                    throw new InvalidDataException($"A frame of type {type} announced {length} bytes, over the channel's limit of {maxMessageSize} bytes (MaxMessageSize).");
                }

                if (end - start < FrameHeader.Size + length)
                {
                    needed = FrameHeader.Size + length;
                    break;
                }

                handler.OnFrame(type, jobId, new ReadOnlySequence<byte>(buffer, start + FrameHeader.Size, length));
                start += FrameHeader.Size + length;
            }

            // Keep the partial frame at the front, in a buffer big enough for all of it. A buffer for a large frame is
            // rented from the channel's buffers and given back once the frame is handled: the next large message reuses
            // memory whose pages are already mapped, instead of faulting in a fresh array each time.
            var partial = end - start;
            if (needed > buffer.Length)
            {
                capacity?.Ensure(needed); // the rest of this frame, and every later one, crosses in fewer pieces
                var larger = ChannelBuffers.Rent(Math.Max(needed, buffer.Length * 2)); // over InitialBuffer: no buffer is smaller
                Buffer.BlockCopy(buffer, start, larger, 0, partial);
                Release(buffer, home);
                buffer = larger;
            }
            else if (buffer != home && needed <= InitialBuffer && partial <= InitialBuffer)
            {
                // A large frame is over: back to the loop's own buffer, the rented one back to the channel's buffers.
                Buffer.BlockCopy(buffer, start, home, 0, partial);
                Release(buffer, home);
                buffer = home;
            }
            else if (start > 0)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, partial);
            }

            start = 0;
            end = partial;
            var read = stream.Read(buffer, end, buffer.Length - end);
            if (read == 0)
            {
                Release(buffer, home);
                if (end > 0)
                {
                    throw new InvalidDataException("The channel ended in the middle of a frame.");
                }

                return;
            }

            end += read;
        }
    }

    /// <summary>Gives a rented buffer back (the loop's own was not rented).</summary>
    private static void Release(byte[] buffer, byte[] home)
    {
        if (buffer != home)
        {
            ChannelBuffers.Return(buffer);
        }
    }

}
