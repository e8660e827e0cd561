using Microsoft.Extensions.Options;
using ProcessPools.Scheduling;

namespace ProcessPools.Tests;

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

    [Fact]
    public async Task QueueCount_above_Processes_fails_validation()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProcessPool.StartAsync(o => (o.Processes, o.QueueCount) = (2, 3)));

        Assert.Contains("QueueCount (3) must not exceed Processes (2)", exception.Message);
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

    [Fact]
    public void Round_robin_weights_queues_by_their_processes()
    {
        var scheduler = new RoundRobinScheduler(processes: 3, queueCount: 2);

        var picks = Enumerable.Range(0, 300).Select(_ => scheduler.SelectQueue(null!)).ToArray();

        Assert.Equal(200, picks.Count(q => q == 0));
        Assert.Equal(100, picks.Count(q => q == 1));
    }

    [Fact]
    public void Least_loaded_picks_the_queue_with_the_least_work_per_worker()
    {
        var scheduler = new LeastLoadedScheduler();

        Assert.Equal(1, scheduler.SelectQueue(new Loads((Workers: 1, Queued: 5, InFlight: 1), (Workers: 2, Queued: 4, InFlight: 2))));
        Assert.Equal(0, scheduler.SelectQueue(new Loads((Workers: 1, Queued: 0, InFlight: 0), (Workers: 1, Queued: 0, InFlight: 0))));
    }

    private sealed class Loads(params (int Workers, int Queued, int InFlight)[] queues) : ISchedulerContext
    {
        public int QueueCount => queues.Length;

        public int GetWorkerCount(int queue) => queues[queue].Workers;

        public int GetQueuedCount(int queue) => queues[queue].Queued;

        public int GetInFlightCount(int queue) => queues[queue].InFlight;
    }
}
