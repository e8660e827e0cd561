using ProcessPools.Scheduling;

namespace ProcessPools.UnitTests.Scheduling;

public sealed class SchedulerTests
{
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
