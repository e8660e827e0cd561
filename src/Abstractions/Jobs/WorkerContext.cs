namespace ProcessPools;

/// <summary>Who a worker process is: registered in every worker's host, so jobs and initializers can take it.</summary>
public sealed class WorkerContext
{
    /// <summary>Creates the context.</summary>
    /// <param name="poolName">The pool the worker belongs to (the empty string for the default pool).</param>
    /// <param name="workerId">The worker's number in its pool, unique for the pool's lifetime.</param>
    public WorkerContext(string poolName, int workerId)
    {
        ArgumentNullException.ThrowIfNull(poolName);
        PoolName = poolName;
        WorkerId = workerId;
    }

    /// <summary>Gets the pool the worker belongs to (the empty string for the default pool).</summary>
    public string PoolName { get; }

    /// <summary>Gets the worker's number in its pool, unique for the pool's lifetime.</summary>
    public int WorkerId { get; }
}
