using System.Runtime.CompilerServices;

namespace ProcessPools;

/// <summary>
/// The aiomultiprocess-style calls on a pool: <c>ApplyAsync</c> (one job), <c>Map</c> (one job per
/// item) and <c>StarMap</c> (one job per tuple of arguments), for static methods and non-capturing
/// lambdas of zero to four arguments returning <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>.
/// </summary>
public static partial class ProcessPoolExtensions
{
    /// <summary>
    /// Runs the job class registered for the request's type (<c>AddJob&lt;TJob&gt;()</c>) in a worker
    /// process: <c>ResizeResult r = await pool.SendAsync(new ResizeRequest(...))</c>.
    /// </summary>
    /// <typeparam name="TResult">Inferred from the request's <see cref="IJobRequest{TResult}"/>.</typeparam>
    /// <param name="pool">The pool.</param>
    /// <param name="request">The job's argument; its runtime type selects the job class.</param>
    /// <param name="cancellationToken">Cancels the job, in the queue or in the child.</param>
    /// <exception cref="InvalidOperationException">No job class of this pool handles the request's type: nothing was sent.</exception>
    public static Task<TResult> SendAsync<TResult>(this IProcessPool pool, IJobRequest<TResult> request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(request);
        return pool.InvokeAsync<TResult>(pool.GetJob(request.GetType()), [request], cancellationToken);
    }

    private static Task<TResult> Apply<TResult>(IProcessPool pool, Delegate job, object?[] arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.InvokeAsync<TResult>(JobTarget.FromDelegate(job), arguments, cancellationToken);
    }

    private static Task<object?> ApplyVoid(IProcessPool pool, Delegate job, object?[] arguments, CancellationToken cancellationToken)
        => Apply<object?>(pool, job, arguments, cancellationToken);

    private static PoolResult<TResult> MapItems<TItem, TResult>(
        IProcessPool pool, Delegate job, int arity, IEnumerable<TItem> items, Func<TItem, object?[]> spread, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (arity == 1 && pool is IValueMapper values)
        {
            // Plain values of a one-argument job: the pool may keep them typed all the way into the chunk's bytes.
            var target = Target(job, arity);
            return values.TryMapValues<TItem, TResult>(target, items, cancellationToken) ?? pool.MapCore<TResult>(target, Adapt(items, spread), cancellationToken);
        }

        return MapItems<TItem, TResult>(pool, job, arity, Adapt(items, spread), cancellationToken);
    }

    private static PoolResult<TResult> MapItems<TItem, TResult>(
        IProcessPool pool, Delegate job, int arity, IAsyncEnumerable<TItem> items, Func<TItem, object?[]> spread, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        return MapItems<TItem, TResult>(pool, job, arity, Adapt(items, spread, CancellationToken.None), cancellationToken);
    }

    private static PoolResult<TResult> MapItems<TItem, TResult>(
        IProcessPool pool, Delegate job, int arity, IAsyncEnumerable<object?[]> argumentSets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.MapCore<TResult>(Target(job, arity), argumentSets, cancellationToken);
    }

    private static JobTarget Target(Delegate job, int arity)
    {
        var target = JobTarget.FromDelegate(job);
        if (target.ParameterTypes.Count != arity)
        {
            throw new ArgumentException($"The job '{target.Name}' takes {target.ParameterTypes.Count} sent arguments, but each item supplies {arity}.", nameof(job));
        }

        return target;
    }

#pragma warning disable CS1998 // a synchronous source behind the async shape: nothing to await.
    private static async IAsyncEnumerable<object?[]> Adapt<TItem>(IEnumerable<TItem> items, Func<TItem, object?[]> spread)
    {
        foreach (var item in items)
        {
            yield return spread(item);
        }
    }
#pragma warning restore CS1998

    private static async IAsyncEnumerable<object?[]> Adapt<TItem>(
        IAsyncEnumerable<TItem> items, Func<TItem, object?[]> spread, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return spread(item);
        }
    }
}
