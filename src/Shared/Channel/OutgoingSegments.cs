using System.Buffers.Binary;

namespace ProcessPools.Channels;

/// <summary>
/// The shared-memory segments one side of a channel sends large frames in. A segment is written by the frame
/// writer, lent to the other side with the frame, and given back when the other side says it has read it
/// (<see cref="FrameType.ReleaseSegment"/>); the next large frame reuses it, so its pages are already there. At most
/// <see cref="KeptFree"/> segments wait free; the others are deleted as they come back.
/// </summary>
internal sealed class OutgoingSegments : IDisposable
{
    /// <summary>How many free segments are kept for reuse.</summary>
    public const int KeptFree = 2;

    /// <summary>Segments are sized in steps of this, so a slightly larger frame still reuses one.</summary>
    private const long Step = 1024 * 1024;

    private readonly SharedMemoryPlan _plan;
    private readonly char _side;
    private readonly Lock _gate = new();
    private readonly List<SharedSegment> _free = [];
    private readonly Dictionary<int, SharedSegment> _lent = [];
    private readonly Action<int, Exception>? _unavailable;
    private int _next;
    private bool _disposed;

    /// <param name="plan">The channel's plan.</param>
    /// <param name="side">This side's letter in segment names.</param>
    /// <param name="unavailable">Told the frame's size and the reason when no segment could be made (the frame then goes through the pipe).</param>
    public OutgoingSegments(SharedMemoryPlan plan, char side, Action<int, Exception>? unavailable = null)
    {
        _plan = plan;
        _side = side;
        _unavailable = unavailable;
    }

    /// <summary>Frames of at least this many bytes go through a segment.</summary>
    public int Threshold => _plan.Threshold;

    /// <summary>How many segments this side holds (lent and free): for tests and diagnostics.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _free.Count + _lent.Count;
            }
        }
    }

    /// <summary>How many segments the other side holds now.</summary>
    public int Lent
    {
        get
        {
            lock (_gate)
            {
                return _lent.Count;
            }
        }
    }

    /// <summary>
    /// Writes a frame's payload (its prefix, then its bytes) into a segment and lends it; false when no segment
    /// could be had (no room in the memory file system, the channel closed): the pipe then carries the frame.
    /// </summary>
    public bool TryPlace(in OutgoingFrame frame, out int number)
    {
        var length = frame.PayloadLength;
        SharedSegment? segment = null;
        lock (_gate)
        {
            if (_disposed)
            {
                number = 0;
                return false;
            }

            // The smallest free segment that fits; one too small is dropped rather than kept beside a new one.
            var fitting = FreeBySize.SmallestFitting(_free, static free => free.Capacity, length);
            if (fitting >= 0)
            {
                segment = _free[fitting];
                _free.RemoveAt(fitting);
            }
            else if (_free.Count > 0)
            {
                _free[0].Dispose();
                _free.RemoveAt(0);
            }

            number = segment?.Number ?? ++_next;
        }

        if (segment is null)
        {
            try
            {
                segment = SharedSegment.Create(_plan, _side, number, (length + Step - 1) / Step * Step);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                _unavailable?.Invoke(length, exception);
                return false;
            }
        }

        using (var lease = segment.Acquire())
        {
            var destination = lease.Span(length);
            if (frame.Prefix is { } prefix)
            {
                BinaryPrimitives.WriteInt32LittleEndian(destination, prefix);
                destination = destination[sizeof(int)..];
            }

            frame.Payload.Span.CopyTo(destination);
        }

        lock (_gate)
        {
            if (_disposed)
            {
                segment.Dispose();
                return false;
            }

            _lent.Add(number, segment);
        }

        return true;
    }

    /// <summary>The other side has read segment <paramref name="number"/>: it is free for the next frame.</summary>
    /// <exception cref="InvalidDataException">No such segment is lent (a confused or hostile peer).</exception>
    public void Release(int number)
    {
        lock (_gate)
        {
            if (!_lent.Remove(number, out var segment))
            {
                if (_disposed)
                {
                    return;
                }

                throw new InvalidDataException($"The other side released shared-memory segment {number}, which it did not hold.");
            }

            if (_disposed)
            {
                segment.Dispose();
                return;
            }

            _free.Add(segment);
            if (_free.Count > KeptFree)
            {
                var smallest = FreeBySize.Smallest(_free, static free => free.Capacity);
                _free[smallest].Dispose();
                _free.RemoveAt(smallest);
            }
        }
    }

    /// <summary>Deletes every segment, lent or free: the channel is over.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var segment in _free.Concat(_lent.Values))
            {
                segment.Dispose();
            }

            _free.Clear();
            _lent.Clear();
        }
    }
}
