using System.Buffers;
using ProcessPools.Transport;

namespace ProcessPools.Dispatch;

/// <summary>A job from <c>ApplyAsync</c>: answered through a task.</summary>
internal sealed class SingleJob<TResult>(long id, JobTarget target, int targetNumber, byte[] arguments, int argumentsLength)
    : CallerJob<TResult>(id, target, targetNumber, arguments, argumentsLength, TaskCreationOptions.RunContinuationsAsynchronously)
{
    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer) =>
        Answer(JobPayloads.ResultOf<TResult>(Target, result, serializer));
}
