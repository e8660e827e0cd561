namespace ProcessPools.Worker;

/// <summary>Who this worker is; registered in the worker's host.</summary>
/// <param name="PoolName">The pool the worker belongs to.</param>
/// <param name="WorkerId">The worker's number in its pool, unique for the pool's lifetime.</param>
public sealed record WorkerContext(string PoolName, int WorkerId);
