using System.ComponentModel;
using ProcessPools.Jobs;

namespace ProcessPools.Generated;

/// <summary>
/// What <c>ApplyAsync</c>, <c>Map</c> and <c>StarMap</c> do once their job is named: the overloads call these with a
/// target made by reflection, the source generator's interceptors with the target it generated.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedCalls
{
    /// <summary>Runs one job and returns its result.</summary>
    public static Task<TResult> Apply<TResult>(IProcessPool pool, JobTarget target, object?[] arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.InvokeAsync<TResult>(target, arguments, options: null, cancellationToken);
    }

    /// <summary>Runs one job that returns no result.</summary>
    public static Task ApplyVoid(IProcessPool pool, JobTarget target, object?[] arguments, CancellationToken cancellationToken)
        => Apply<object?>(pool, target, arguments, cancellationToken);

    /// <summary>Runs a job per item of <paramref name="items"/>, spread into its <paramref name="arity"/> sent arguments.</summary>
    public static PoolResult<TResult> Map<TItem, TResult>(
        IProcessPool pool, JobTarget target, int arity, IEnumerable<TItem> items, Func<TItem, object?[]> spread, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(items);

        // Plain values of a one-argument job: the pool may keep them typed all the way into the chunk's bytes.
        return arity == 1
            ? pool.InvokeEach<TItem, TResult>(target, items, options: null, cancellationToken)
            : pool.InvokeMany<TResult>(target, ArgumentSets.Of(items, spread), options: null, cancellationToken);
    }

    /// <summary>Runs a job per item of an asynchronous <paramref name="items"/>, spread into its sent arguments.</summary>
    public static PoolResult<TResult> Map<TItem, TResult>(
        IProcessPool pool, JobTarget target, int arity, IAsyncEnumerable<TItem> items, Func<TItem, object?[]> spread, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(items);
        return pool.InvokeMany<TResult>(target, ArgumentSets.Of(items, spread, CancellationToken.None), options: null, cancellationToken);
    }
}
