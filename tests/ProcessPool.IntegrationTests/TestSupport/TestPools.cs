using System.Diagnostics;

namespace ProcessPools.IntegrationTests;

/// <summary>Helpers for tests that act on jobs in known states.</summary>
public static class TestPools
{
    /// <summary>The longest any single wait in a test may take before the test fails instead of hanging.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    /// <summary>Starts a job and returns once its invoke frame went to a worker, so the test acts on a running job, not a queued one.</summary>
    public static async Task<Task<T>> SentToWorkerAsync<T>(
        IProcessPool pool, Delegate job, object?[] arguments, CancellationToken cancellationToken, JobOptions? options = null)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var result = ((Dispatch.PoolEngine)pool).InvokeAsync<T>(JobTarget.FromDelegate(job), arguments, options, sent, cancellationToken);
        await sent.Task.WaitAsync(HangGuard, CancellationToken.None);
        return result;
    }

    /// <summary>A local pool's status, which it answers at once (its <see cref="IProcessPool.GetStatusAsync"/> never waits).</summary>
    public static ProcessPoolStatus Snapshot(this IProcessPool pool)
    {
#pragma warning disable CA2012 // read once, completed (as asserted)
        var status = pool.GetStatusAsync();
        Assert.True(status.IsCompletedSuccessfully, "a local pool answers its status at once");
        return status.Result;
#pragma warning restore CA2012
    }

    /// <summary>The process ids of the pool's workers until the pool has seen them exit (starting, ready, spare, draining or dying), from its public status.</summary>
    public static IReadOnlyList<int> WorkerPids(IProcessPool pool) =>
        [.. pool.Snapshot().Workers.Where(w => w.ProcessId is not null).Select(w => w.ProcessId!.Value)];

    /// <summary>The process ids of the workers that are ready and take jobs (not those starting, spare or leaving).</summary>
    public static IReadOnlyList<int> ReadyWorkerPids(IProcessPool pool) =>
        [.. pool.Snapshot().Workers.Where(w => w.State == WorkerState.Ready && w.ProcessId is not null).Select(w => w.ProcessId!.Value)];

    /// <summary>
    /// Waits for a state the pool reaches by itself (a death noticed, a replacement ready), checked every
    /// 20 ms since the pool raises no public event for it; fails the test after the hang guard.
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(HangGuard);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!condition())
        {
            await tick.WaitForNextTickAsync(deadline.Token);
        }
    }

    public static void AssertExited(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            Assert.True(process.HasExited, $"worker {pid} is still running");
        }
        catch (ArgumentException)
        {
            // Gone and reaped.
        }
    }
}
