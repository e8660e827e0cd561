namespace ProcessPools;

/// <summary>
/// Chooses the queue each job goes to. Workers are bound to queues (worker <c>i</c> to queue
/// <c>i % QueueCount</c>) and pull from their own queue only, so with one queue (the default) there is
/// nothing to choose and the workers balance themselves.
/// </summary>
/// <remarks>Called concurrently from every caller's thread: implementations must be thread-safe.</remarks>
public interface IScheduler
{
    /// <summary>Returns the index of the queue, from 0 to <see cref="ISchedulerContext.QueueCount"/> - 1, for the next job.</summary>
    int SelectQueue(ISchedulerContext context);
}

/// <summary>What a scheduler can see of the pool when it places a job.</summary>
public interface ISchedulerContext
{
    /// <summary>Gets the number of queues.</summary>
    int QueueCount { get; }

    /// <summary>Gets how many worker processes pull from a queue.</summary>
    int GetWorkerCount(int queue);

    /// <summary>Gets how many jobs wait in a queue, not yet dispatched.</summary>
    int GetQueuedCount(int queue);

    /// <summary>Gets how many jobs from a queue are running in its workers.</summary>
    int GetInFlightCount(int queue);
}

/// <summary>The built-in schedulers, as named in configuration.</summary>
public enum SchedulerKind
{
    /// <summary>
    /// Round robin over the worker processes, as aiomultiprocess does: each queue gets jobs in
    /// proportion to the processes bound to it.
    /// </summary>
    RoundRobin,

    /// <summary>The queue with the fewest queued and running jobs per worker.</summary>
    LeastLoaded,
}
