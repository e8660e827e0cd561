using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ProcessPools.IntegrationTests;

public sealed class InitializerTests
{
    [Fact]
    public async Task An_initializer_runs_once_in_each_worker_before_its_first_job()
    {
        var builder = Host.CreateApplicationBuilder();
        // One queue per worker: with a shared queue, a fast worker could take every item before the other pulls one.
        builder.Services.AddProcessPool(o => (o.Processes, o.QueueCount, o.ChildConcurrency) = (2, 2, 4)).AddWorkerInitializer<CountingInitializer>();
        using var host = builder.Build();
        await host.StartAsync();
        var pool = host.Services.GetRequiredService<IProcessPool>();

        var seen = await pool.Map(InitializerJobs.ReadInitializationsAsync, Enumerable.Range(0, 40));
        await host.StopAsync();

        Assert.All(seen, s => Assert.Equal(1, s.Count));
        Assert.Equal(2, seen.Select(s => s.Pid).Distinct().Count());
        Assert.DoesNotContain(Environment.ProcessId, seen.Select(s => s.Pid));
    }

    [Fact]
    public async Task An_initializer_that_throws_fails_host_start_with_its_message()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddProcessPool(o => o.Processes = 1).AddWorkerInitializer<FailingInitializer>();
        using var host = builder.Build();

        var exception = await Assert.ThrowsAsync<ProcessPoolException>(() => host.StartAsync()).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Contains("cache warm-up failed", exception.Message);
        Assert.Contains("System.InvalidOperationException", exception.Message);
    }

    /// <summary>
    /// Regression: a worker whose initializer throws sends its exception and exits at once; without logging to
    /// slow the parent down, the exit used to win and the start failed with "exited before it was ready (exit
    /// code 3)", the initializer's exception lost. Several starts, since each one races anew.
    /// </summary>
    [Fact]
    public async Task An_initializer_that_throws_fails_a_cold_start_with_its_own_exception_whatever_the_timing()
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var exception = await Assert.ThrowsAsync<ProcessPoolException>(() =>
                ProcessPool.StartAsync(o => o.Processes = 2, workers => workers.AddWorkerInitializer<FailingInitializer>())).WaitAsync(TestPools.HangGuard);

            Assert.Contains("failed to start: System.InvalidOperationException: cache warm-up failed", exception.Message);
            Assert.DoesNotContain("before it was ready", exception.Message);
        }
    }
}

public sealed class CountingInitializer : IWorkerInitializer
{
    private static int s_count;

    public static int Count => Volatile.Read(ref s_count);

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref s_count);
        return Task.CompletedTask;
    }
}

public sealed class FailingInitializer : IWorkerInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("cache warm-up failed");
}

public static class InitializerJobs
{
    // Runs in the worker: the worker's own static, set by its initializer before any job.
    public static Task<(int Count, int Pid)> ReadInitializationsAsync(int item) =>
        Task.FromResult((CountingInitializer.Count, Environment.ProcessId));
}
