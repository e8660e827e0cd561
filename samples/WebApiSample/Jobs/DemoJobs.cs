namespace WebApiSample.Jobs;

/// <summary>
/// Jobs for trying the dashboard (mapped under /demo only with Demo:Enabled): one that runs a while, one that ignores
/// its cancellation as a blocking library call would, one that fails after writing to its standard error.
/// </summary>
public static class DemoJobs
{
    public static async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return Environment.ProcessId;
    }

    /// <summary>Blocks its thread and never looks at a token: only its worker's end stops it.</summary>
    public static Task<int> StubbornAsync(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return Task.FromResult(Environment.ProcessId);
    }

    public static Task<int> FailAsync(string message)
    {
        Console.Error.WriteLine($"about to fail: {message}");
        throw new InvalidOperationException(message);
    }
}
