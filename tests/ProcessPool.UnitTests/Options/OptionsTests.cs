using Microsoft.Extensions.Options;

namespace ProcessPools.UnitTests.Options;

public sealed class OptionsTests
{
    [Theory]
    [InlineData(nameof(ProcessPoolOptions.Processes), 0)]
    [InlineData(nameof(ProcessPoolOptions.ChildConcurrency), 0)]
    [InlineData(nameof(ProcessPoolOptions.QueueCount), 0)]
    [InlineData(nameof(ProcessPoolOptions.MaxTasksPerChild), -1)]
    public async Task Out_of_range_counts_fail_validation_naming_the_option(string option, int value)
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => typeof(ProcessPoolOptions).GetProperty(option)!.SetValue(o, value)));

        Assert.Contains(option, exception.Message);
    }

    [Theory]
    [InlineData(nameof(ProcessPoolOptions.MaxRetries), -1)]
    [InlineData(nameof(ProcessPoolOptions.MaxRetries), 101)]
    [InlineData(nameof(ProcessPoolOptions.MaxQueuedJobs), -1)]
    [InlineData(nameof(ProcessPoolOptions.SpareWorkers), 65)]
    [InlineData(nameof(ProcessPoolOptions.MapWindow), -1)]
    [InlineData(nameof(ProcessPoolOptions.MaxMessageSize), 100)]
    public async Task Out_of_range_reliability_settings_fail_validation_naming_the_option(string option, int value)
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => typeof(ProcessPoolOptions).GetProperty(option)!.SetValue(o, value)));

        Assert.Contains(option, exception.Message);
    }

    [Theory]
    [InlineData(nameof(ProcessPoolOptions.JobTimeout), "00:00:00")]
    [InlineData(nameof(ProcessPoolOptions.CancellationGracePeriod), "-00:00:01")]
    [InlineData(nameof(ProcessPoolOptions.HeartbeatInterval), "00:00:00.001")]
    [InlineData(nameof(ProcessPoolOptions.HeartbeatInterval), "00:00:00.010")] // regression: with a 20 ms timeout, 200 of 200 jobs were lost
    [InlineData(nameof(ProcessPoolOptions.HeartbeatTimeout), "00:00:00.500")]
    [InlineData(nameof(ProcessPoolOptions.StartTimeout), "00:00:00")]
    [InlineData(nameof(ProcessPoolOptions.ShutdownTimeout), "-00:00:01")]
    [InlineData(nameof(ProcessPoolOptions.WaitForDebugger), "00:00:00")]
    [InlineData(nameof(ProcessPoolOptions.WaitForDebugger), "02:00:00")]
    public async Task Out_of_range_durations_fail_validation_naming_the_option(string option, string value)
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => typeof(ProcessPoolOptions).GetProperty(option)!.SetValue(o, TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture))));

        Assert.Contains(option, exception.Message);
    }

    [Fact]
    public async Task A_heartbeat_timeout_under_twice_the_interval_fails_validation()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => (o.HeartbeatInterval, o.HeartbeatTimeout) = (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(8))));

        Assert.Contains("HeartbeatTimeout", exception.Message);
        Assert.Contains("twice HeartbeatInterval", exception.Message);
    }

    [Theory]
    [InlineData(0, null, nameof(JobOptions.Timeout))]
    [InlineData(-5, null, nameof(JobOptions.Timeout))]
    [InlineData(null, -1, nameof(JobOptions.MaxRetries))]
    [InlineData(null, 101, nameof(JobOptions.MaxRetries))]
    public void Per_call_job_options_out_of_range_fail_where_they_are_set(int? timeoutMilliseconds, int? maxRetries, string setting)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new JobOptions { Timeout = timeoutMilliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null, MaxRetries = maxRetries });

        Assert.Equal(setting, exception.ParamName);
    }

    [Fact]
    public void A_view_with_an_out_of_range_timeout_fails_at_the_call()
    {
        var pool = new NeverStartedPool();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => pool.WithTimeout(TimeSpan.Zero));

        Assert.Equal(nameof(JobOptions.Timeout), exception.ParamName);
    }

    [Theory]
    [InlineData(100, 64 * 1024 * 1024)]
    [InlineData(2 << 20, 1 << 20)]
    public async Task A_shared_memory_threshold_under_a_page_or_over_MaxMessageSize_fails_validation(int threshold, int maxMessageSize)
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => (o.SharedMemoryThreshold, o.MaxMessageSize) = (threshold, maxMessageSize)));

        Assert.Contains($"SharedMemoryThreshold ({threshold}) must be between 4096 and MaxMessageSize ({maxMessageSize})", exception.Message);
    }

    [Fact]
    public async Task QueueCount_above_Processes_fails_validation()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => (o.Processes, o.QueueCount) = (2, 3)));

        Assert.Contains("QueueCount (3) must not exceed Processes (2)", exception.Message);
    }

    /// <summary>Regression: "Processes = 0" was reported twice, as itself and as a QueueCount of 1 that exceeds it.</summary>
    [Fact]
    public async Task Processes_out_of_range_is_reported_once_not_also_as_QueueCount_exceeding_it()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => ProcessPool.StartAsync(o => o.Processes = 0));

        Assert.Equal("Processes: The field Processes must be between 1 and 1024. (process pool 'default')", Assert.Single(exception.Failures));
    }

    [Fact]
    public void Defaults_follow_aiomultiprocess()
    {
        var options = new ProcessPoolOptions();

        Assert.Equal(Environment.ProcessorCount, options.Processes);
        Assert.Equal(16, options.ChildConcurrency);
        Assert.Equal(1, options.QueueCount);
        Assert.Equal(0, options.MaxTasksPerChild);
        Assert.Equal(SchedulerKind.RoundRobin, options.Scheduler);
    }

    /// <summary>A pool that is never called: per-call options are checked before anything reaches it.</summary>
    private sealed class NeverStartedPool : IProcessPool
    {
        public string Name => "never";

        public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken) => throw new NotSupportedException();

        public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
