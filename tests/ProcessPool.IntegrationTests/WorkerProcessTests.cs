namespace ProcessPools.IntegrationTests;

public sealed class WorkerProcessTests
{
    [Fact]
    public async Task A_worker_process_runs_one_job_returns_its_result_and_exits()
    {
        await using var worker = await WorkerProcess.StartAsync(Jobs.AddAsync, 20, 22);

        Assert.NotEqual(Environment.ProcessId, worker.ProcessId);
        Assert.Equal(42, await worker);
        Assert.Equal(0, await worker.WaitForExitAsync());
        Assert.True(worker.HasExited);
    }

    /// <summary>Regression: a one-off worker could not take the worker-side configuration a pool's workers take.</summary>
    [Fact]
    public async Task A_worker_process_takes_an_initializer_a_host_configurator_and_environment_variables()
    {
        await using var worker = await WorkerProcess.StartAsync(
            OneOffJobs.DescribeAsync,
            configure: o => o.EnvironmentVariables["ONE_OFF_GREETING"] = "hello",
            configureWorker: w => w.AddWorkerInitializer<CountingInitializer>().ConfigureWorkerHost(OneOffJobs.ConfigureHost));

        var (initializations, greeting, configured) = await worker;

        Assert.Equal((1, "hello", "yes"), (initializations, greeting, configured));
    }

    [Fact]
    public async Task A_process_without_a_result_reports_its_completion()
    {
        await using var process = await WorkerProcess.StartAsync(Jobs.DoNothingAsync);

        await process.Completion;
        Assert.Equal(0, await process.WaitForExitAsync());
    }

    [Fact]
    public async Task Killing_a_worker_process_fails_its_job_as_lost()
    {
        await using var worker = await WorkerProcess.StartAsync(Jobs.WaitForCancellationAsync, 1);

        await worker.KillAsync();

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => worker.Result);
        Assert.Equal(worker.ProcessId, lost.ProcessId);
        Assert.Equal("was killed: its WorkerProcess was killed (KillAsync)", lost.Reason); // not "the pool was terminated": it has no pool in view
        Assert.Equal(137, await worker.WaitForExitAsync());
    }

    /// <summary>A job whose result could not be read back is refused as a pool refuses it, before a process starts for it.</summary>
    [Fact]
    public async Task A_result_that_could_not_be_read_back_is_refused_before_a_process_starts()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"processpool-readback-{Guid.NewGuid():N}");

        var starting = WorkerProcess.StartAsync(ShapeJobs.MakeAsync, marker);

        Assert.True(starting.IsFaulted); // at once: no process start was awaited
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => starting);
        Assert.Contains("could not be read back from its worker", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task A_failing_job_in_a_worker_process_surfaces_the_remote_exception()
    {
        await using var worker = await WorkerProcess.StartAsync(Jobs.ThrowInvalidOperationAsync, "nope");

        var exception = await Assert.ThrowsAsync<RemoteJobException>(() => worker.Result);
        Assert.True(exception.Is<InvalidOperationException>());
    }
}

public static class OneOffJobs
{
    public static void ConfigureHost(Microsoft.Extensions.Hosting.IHostApplicationBuilder builder) => builder.Services.AddSingleton(new HostMarker("yes"));

    public static Task<(int Initializations, string? Greeting, string? Configured)> DescribeAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        Task.FromResult((CountingInitializer.Count, Environment.GetEnvironmentVariable("ONE_OFF_GREETING"), services.GetService<HostMarker>()?.Value));
}

public sealed record HostMarker(string Value);
