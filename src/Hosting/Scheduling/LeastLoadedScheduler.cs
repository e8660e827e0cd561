namespace ProcessPools.Scheduling;

/// <summary>The queue with the fewest queued and running jobs per worker; ties go to the lowest index.</summary>
internal sealed class LeastLoadedScheduler : IScheduler
{
    public int SelectQueue(ISchedulerContext context)
    {
        var best = 0;
        var bestLoad = double.MaxValue;
        for (var queue = 0; queue < context.QueueCount; queue++)
        {
            var load = (double)(context.GetQueuedCount(queue) + context.GetInFlightCount(queue)) / Math.Max(1, context.GetWorkerCount(queue));
            if (load < bestLoad)
            {
                best = queue;
                bestLoad = load;
            }
        }

        return best;
    }
}
