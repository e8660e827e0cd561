using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ProcessPools.IntegrationTests;

public sealed class HostingTests
{
    [Fact]
    public async Task The_hosted_service_starts_workers_with_the_host_and_leaves_none_after_stop()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddProcessPool(o => o.Processes = 2);
        using var host = builder.Build();

        await host.StartAsync();
        var pool = host.Services.GetRequiredService<IProcessPool>();
        var pids = TestPools.WorkerPids(pool);
        Assert.Equal(2, pids.Count);
        Assert.Equal(25, await pool.ApplyAsync(Jobs.SquareAsync, 5));
        await host.StopAsync();

        Assert.All(pids, pid => Assert.True(HasExited(pid), $"worker {pid} outlived the host"));
        var closed = Assert.Throws<ObjectDisposedException>(() => { _ = pool.ApplyAsync(Jobs.SquareAsync, 1); });
        Assert.Contains("The process pool 'default' is closed", closed.Message); // regression: the default pool was named ''
    }

    /// <summary>
    /// Regression: in the worker template the worker is registered first and the pool after; hosts stop services
    /// in reverse order, so the pool used to close first and the worker's last job failed with "The process pool
    /// '' is closed". The pool now starts before and stops after every other hosted service.
    /// </summary>
    [Fact]
    public async Task A_background_service_registered_before_the_pool_can_use_it_until_it_has_stopped()
    {
        var builder = Host.CreateApplicationBuilder();
        var lastWork = new LastWork();
        builder.Services.AddSingleton(lastWork);
        builder.Services.AddHostedService<WorksUntilStopped>(); // the worker template's order
        builder.Services.AddProcessPool(o => o.Processes = 1);
        using var host = builder.Build();

        await host.StartAsync();
        await lastWork.Started.Task.WaitAsync(TestPools.HangGuard);
        await host.StopAsync();

        Assert.Null(lastWork.Error);
        Assert.Equal(81, lastWork.Answer);
    }

    [Fact]
    public async Task Options_bind_from_a_configuration_section()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcessPool:Processes"] = "1",
            ["ProcessPool:ChildConcurrency"] = "3",
            ["ProcessPool:MaxTasksPerChild"] = "5",
            ["ProcessPool:Scheduler"] = "LeastLoaded",
            ["ProcessPool:StartTimeout"] = "00:00:20",
            ["ProcessPool:SharedMemoryThreshold"] = "1048576",
            ["ProcessPool:EnvironmentVariables:POOL_TEST_GREETING"] = "from configuration", // regression: refused as "not a setting"
        });
        builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptionsMonitor<ProcessPoolOptions>>().Get(Microsoft.Extensions.Options.Options.DefaultName);
        await host.StartAsync();

        Assert.Equal((1, 3, 5, SchedulerKind.LeastLoaded, TimeSpan.FromSeconds(20), (int?)1048576),
            (options.Processes, options.ChildConcurrency, options.MaxTasksPerChild, options.Scheduler, options.StartTimeout, options.SharedMemoryThreshold));
        var pool = host.Services.GetRequiredService<IProcessPool>();
        Assert.Single(TestPools.WorkerPids(pool));
        Assert.Equal("from configuration", await pool.ApplyAsync(HostingJobs.ReadVariableAsync, "POOL_TEST_GREETING").WaitAsync(TestPools.HangGuard));
        await host.StopAsync();
    }

    /// <summary>Regression: messages named no section or pool, and a misspelt key or enum value listed nothing to choose from.</summary>
    [Theory]
    [InlineData("QueueCount", "3", "ProcessPool:QueueCount (3) must not exceed ProcessPool:Processes (2): a queue without a worker would never run its jobs (process pool 'default').")]
    [InlineData("ChildConcurrency", "0", "ProcessPool:ChildConcurrency: The field ChildConcurrency must be between 1 and 100000. (process pool 'default')")]
    [InlineData("Scheduler", "Fastest", "ProcessPool:Scheduler is 'Fastest', which is not one of its values: RoundRobin, LeastLoaded (process pool 'default').")]
    [InlineData("LaunchMode", "Fork", "ProcessPool:LaunchMode is 'Fork', which is not one of its values:")]
    [InlineData("Processes", "many", "Failed to convert configuration value 'many' at 'ProcessPool:Processes' to type 'System.Int32'")]
    [InlineData("Procceses", "2", "ProcessPool:Procceses is not a setting of process pool 'default'. Did you mean 'Processes'?")]
    [InlineData("Serializer", "Json", "ProcessPool:Serializer cannot be set from configuration")]
    [InlineData("SharedMemoryThreshold", "100", "ProcessPool:SharedMemoryThreshold (100) must be between 4096 and ProcessPool:MaxMessageSize (67108864)")]
    public async Task A_bad_configuration_value_fails_host_start_naming_the_key_path_and_the_pool(string key, string value, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcessPool:Processes"] = "2",
            [$"ProcessPool:{key}"] = value,
        });
        builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
        using var host = builder.Build();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, exception.Message);
    }

    [Fact]
    public async Task A_named_pool_bound_from_a_nested_section_names_its_path_and_its_name()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProcessPools:Images:Processes"] = "2",
            ["ProcessPools:Images:QueueCount"] = "3",
        });
        builder.Services.AddProcessPool("images", builder.Configuration.GetSection("ProcessPools:Images"));
        using var host = builder.Build();

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("ProcessPools:Images:QueueCount (3) must not exceed ProcessPools:Images:Processes (2)", exception.Message);
        Assert.Contains("(process pool 'images')", exception.Message);
    }

    [Fact]
    public async Task Named_pools_are_independent()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddProcessPool("images", o => o.Processes = 1);
        builder.Services.AddProcessPool("reports", o => o.Processes = 1);
        using var host = builder.Build();
        await host.StartAsync();

        var images = host.Services.GetRequiredKeyedService<IProcessPool>("images");
        var reports = host.Services.GetRequiredKeyedService<IProcessPool>("reports");
        var imagesPid = await images.ApplyAsync(Jobs.GetProcessIdAsync);
        var reportsPid = await reports.ApplyAsync(Jobs.GetProcessIdAsync);
        await host.Services.GetRequiredKeyedService<Dispatch.PoolEngine>("images").CloseAsync(); // its owner closes it; users of IProcessPool cannot

        Assert.NotEqual(imagesPid, reportsPid);
        Assert.Equal("images", images.Name);
        Assert.Equal(9, await reports.ApplyAsync(Jobs.SquareAsync, 3));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => images.ApplyAsync(Jobs.SquareAsync, 3));
        await host.StopAsync();
    }

    [Fact]
    public void Adding_the_same_pool_twice_registers_it_once()
    {
        var services = new ServiceCollection();
        services.AddProcessPool(o => o.Processes = 1);
        services.AddProcessPool(o => o.ChildConcurrency = 2);

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }

    private static bool HasExited(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}

public sealed class LastWork
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int? Answer { get; set; }

    public Exception? Error { get; set; }
}

/// <summary>A worker service whose last piece of work, done as the host stops, still needs the pool.</summary>
public sealed class WorksUntilStopped(IProcessPool pool, LastWork lastWork) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Assert.Equal(4, await pool.ApplyAsync(Jobs.SquareAsync, 2, stoppingToken));
        lastWork.Started.TrySetResult();
        await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            lastWork.Answer = await pool.ApplyAsync(Jobs.SlowSquareAsync, 9, CancellationToken.None);
        }
        catch (Exception exception)
        {
            lastWork.Error = exception;
        }
    }
}

/// <summary>Jobs that look at the worker's host.</summary>
public static class HostingJobs
{
    /// <summary>An environment variable as the worker process sees it.</summary>
    public static Task<string?> ReadVariableAsync(string name) => Task.FromResult(Environment.GetEnvironmentVariable(name));
}
