namespace ProcessPools.Channels;

/// <summary>
/// A frame waiting for the writer loop. <see cref="Prefix"/>, when set, is an int32 written before the
/// payload (the target number of an invoke frame), so the payload can be the caller's buffer as is.
/// </summary>
internal readonly record struct OutgoingFrame(FrameType Type, long JobId, ReadOnlyMemory<byte> Payload, int? Prefix = null, byte[]? ReturnToPool = null)
{
    public int PayloadLength => Payload.Length + (Prefix.HasValue ? sizeof(int) : 0);
}
