namespace ProcessPools;

/// <summary>
/// A pool that can map a one-argument job over plain values without wrapping each in an argument array
/// (the fast path of <c>Map</c> for many small items). Implemented by the pool engine; views and other pools
/// take the general path through <see cref="IProcessPool.MapCore{TResult}(JobTarget, IAsyncEnumerable{object?[]}, CancellationToken)"/>.
/// </summary>
internal interface IValueMapper
{
    /// <summary>The map, or null when this job, pool or serializer needs the general path.</summary>
    PoolResult<TResult>? TryMapValues<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, CancellationToken cancellationToken);
}
