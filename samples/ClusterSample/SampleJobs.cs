namespace ClusterSample;

/// <summary>The sample's job: the item's square and the pid of the worker that computed it.</summary>
public static class SampleJobs
{
    public static async Task<Answer> RunAsync(int x, int delay, CancellationToken cancellationToken)
    {
        if (delay > 0)
        {
            await Task.Delay(delay, cancellationToken);
        }

        return new Answer(x, (long)x * x, Environment.ProcessId);
    }
}

/// <summary>One item's answer.</summary>
public sealed record Answer(int Item, long Square, int Pid);
