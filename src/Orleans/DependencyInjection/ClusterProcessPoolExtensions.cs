using ProcessPools.Orleans.FrontEnd;

namespace ProcessPools;

/// <summary>What a cluster pool adds to <see cref="IProcessPool"/>.</summary>
public static class ClusterProcessPoolExtensions
{
    /// <summary>
    /// Asks every silo of a cluster pool for its workers and returns the pool's status: each worker with its silo
    /// (<see cref="WorkerStatus.Node"/>). <see cref="IProcessPool.GetStatus"/> returns the last status known without asking.
    /// </summary>
    /// <exception cref="ArgumentException">The pool is not a cluster pool.</exception>
    public static Task<ProcessPoolStatus> GetClusterStatusAsync(this IProcessPool pool, CancellationToken cancellationToken = default) =>
        pool is ClusterProcessPool cluster
            ? cluster.RefreshStatusAsync(cancellationToken)
            : throw new ArgumentException("The pool is not a cluster pool (AddClusterProcessPool).", nameof(pool));
}
