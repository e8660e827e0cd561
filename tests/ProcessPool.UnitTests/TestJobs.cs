using System.Buffers;
using ProcessPools.Dispatch;

namespace ProcessPools.UnitTests;

/// <summary>A pending job that records how it was answered, for tests of the dispatch pieces without a worker.</summary>
internal sealed class RecordingJob(long id = 1) : PendingJob(id, JobTarget.FromDelegate(SquareAsync), targetNumber: 1, ArrayPool<byte>.Shared.Rent(16), 0)
{
    public List<string> Answers { get; } = [];

    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);

    protected override void OnCompleted(ReadOnlySequence<byte> result, IJobSerializer serializer) => Answers.Add("completed");

    protected override void OnFailed(Exception exception) => Answers.Add($"failed: {exception.GetType().Name}");

    protected override void OnCanceled(CancellationToken cancellationToken) => Answers.Add("cancelled");
}
