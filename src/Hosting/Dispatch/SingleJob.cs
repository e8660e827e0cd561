using System.Buffers;

namespace ProcessPools.Dispatch;

/// <summary>A job from <c>ApplyAsync</c>: answered through a task.</summary>
internal sealed class SingleJob<TResult>(long id, JobTarget target, int targetNumber, byte[] arguments, int argumentsLength)
    : CallerJob<TResult>(id, target, targetNumber, arguments, argumentsLength, TaskCreationOptions.RunContinuationsAsynchronously)
{
    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer) =>
        Answer(Target.ResultType == typeof(void) ? default! : (TResult)serializer.Deserialize(result, Target.ResultType)!);
}
