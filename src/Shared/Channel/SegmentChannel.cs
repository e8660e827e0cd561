namespace ProcessPools.Channels;

/// <summary>
/// One side's shared memory on a channel (<see cref="SharedMemoryPlan"/>): the segments it sends in, and the reading of
/// the other side's in front of its frame handler. The parent's side ends the channel's files once the worker has exited.
/// </summary>
internal sealed class SegmentChannel : IDisposable
{
    private readonly char _side;

    /// <param name="plan">The channel's plan.</param>
    /// <param name="side"><see cref="SharedMemoryPlan.Parent"/> or <see cref="SharedMemoryPlan.Worker"/>: this side.</param>
    /// <param name="unavailable">Told when a segment could not be made and a frame went through the pipe.</param>
    public SegmentChannel(SharedMemoryPlan plan, char side, Action<int, Exception>? unavailable = null)
    {
        Plan = plan;
        _side = side;
        Own = new OutgoingSegments(plan, side, unavailable);
    }

    public SharedMemoryPlan Plan { get; }

    /// <summary>The segments this side writes large frames into (give them to its <see cref="FrameWriter"/>).</summary>
    public OutgoingSegments Own { get; }

    /// <summary>The handler to read with: the other side's segments mapped for <paramref name="inner"/>, releases freeing this side's.</summary>
    public IFrameHandler HandlerFor(IFrameHandler inner, FrameWriter writer, int maxMessageSize) =>
        new SegmentFrames(inner, Plan, _side == SharedMemoryPlan.Parent ? SharedMemoryPlan.Worker : SharedMemoryPlan.Parent, Own, writer, maxMessageSize);

    /// <summary>
    /// Deletes this side's segments. The parent's side, called once the worker has exited and its frames are read,
    /// also deletes the worker's: lent or free, they are nobody's now. (A worker leaves its own to the parent.)
    /// </summary>
    public void Dispose()
    {
        Own.Dispose();
        if (_side == SharedMemoryPlan.Parent)
        {
            Plan.DeleteChannelFiles();
        }
    }
}
