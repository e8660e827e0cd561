namespace ProcessPools.Scheduling;

/// <summary>
/// aiomultiprocess's round robin: cycles over the worker processes and sends each job to the queue
/// of the next one, so a queue gets jobs in proportion to the processes bound to it.
/// </summary>
internal sealed class RoundRobinScheduler : IScheduler
{
    private readonly int[] _cycle;
    private long _next = -1;

    /// <param name="processes">The pool's process count; worker <c>i</c> pulls from queue <c>i % queueCount</c>.</param>
    /// <param name="queueCount">The pool's queue count.</param>
    public RoundRobinScheduler(int processes, int queueCount) =>
        _cycle = [.. Enumerable.Range(0, processes).Select(process => process % queueCount)];

    public int SelectQueue(ISchedulerContext context) =>
        _cycle[(int)((ulong)Interlocked.Increment(ref _next) % (ulong)_cycle.Length)];
}
