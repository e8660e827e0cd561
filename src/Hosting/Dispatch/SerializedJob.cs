using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.Dispatch;

/// <summary>
/// A job that arrives as bytes: a transport (a cluster's execution grain) carries a job's identity and the arguments the
/// caller's job serializer wrote, and this pool runs it without reading them. The answer is the worker's bytes as they
/// are: the serializer's result, or a chunk's answers (<see cref="Protocol.ChunkAnswerPayload"/>).
/// </summary>
/// <remarks>
/// Continuations run where the answer is read: the one awaiting this task is a transport's grain, whose continuation
/// only queues itself on its activation's scheduler. A thread-pool hop here cost a tenth of the cluster's round trip.
/// </remarks>
/// <param name="id">The job's id in this pool.</param>
/// <param name="target">The job.</param>
/// <param name="targetNumber">Its number on the channel.</param>
/// <param name="arguments">A rented buffer holding the arguments (an invoke's, or a chunk's count and items).</param>
/// <param name="length">How many bytes of it are the arguments.</param>
/// <param name="itemCount">0 for one job; otherwise how many items the chunk holds.</param>
internal sealed class SerializedJob(long id, JobTarget target, int targetNumber, byte[] arguments, int length, int itemCount)
    : CallerJob<byte[]>(id, target, targetNumber, arguments, length, TaskCreationOptions.None)
{
    public override FrameType InvokeFrame => itemCount > 0 ? FrameType.InvokeMany : FrameType.Invoke;

    public override int ItemCount => Math.Max(1, itemCount);

    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer) => Answer(result.ToArray());
}
