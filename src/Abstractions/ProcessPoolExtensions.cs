using System.Diagnostics.CodeAnalysis;
using ProcessPools.Jobs;

namespace ProcessPools;

/// <summary>
/// The aiomultiprocess-style calls on a pool: <c>ApplyAsync</c> (one job), <c>Map</c> (one job per
/// item) and <c>StarMap</c> (one job per tuple of arguments), for static methods and non-capturing
/// lambdas of zero to four arguments returning <see cref="Task"/>, <see cref="Task{TResult}"/>,
/// <see cref="ValueTask"/> or <see cref="ValueTask{TResult}"/>; <c>SendAsync</c> for requests handled by job
/// classes; and the primitives of <see cref="IProcessPool"/> without per-call options.
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
        return pool.InvokeAsync<TResult>(JobTarget.ForRequest(request.GetType(), typeof(TResult)), [request], options: null, cancellationToken);
    }

    /// <summary>Runs one job in a worker process with the pool's settings; see <see cref="IProcessPool.InvokeAsync{TResult}"/>.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="target">The job to run.</param>
    /// <param name="arguments">The arguments the job's sent parameters take, in order.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    public static Task<TResult> InvokeAsync<TResult>(this IProcessPool pool, JobTarget target, object?[] arguments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.InvokeAsync<TResult>(target, arguments, options: null, cancellationToken);
    }

    /// <summary>Runs a job once per set of arguments with the pool's settings; see <see cref="IProcessPool.InvokeMany{TResult}"/>.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="target">The job to run.</param>
    /// <param name="argumentSets">The arguments of each job, pulled lazily.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    public static PoolResult<TResult> InvokeMany<TResult>(this IProcessPool pool, JobTarget target, IAsyncEnumerable<object?[]> argumentSets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.InvokeMany<TResult>(target, argumentSets, options: null, cancellationToken);
    }

    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    [RequiresDynamicCode(JobShape.ReflectionPath)]
    private static JobTarget Target(Delegate job) => JobTarget.FromDelegate(job);

    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    [RequiresDynamicCode(JobShape.ReflectionPath)]
    private static JobTarget Target(Delegate job, int arity)
    {
        var target = JobTarget.FromDelegate(job);
        if (target.ParameterTypes.Count != arity)
        {
            throw new ArgumentException($"The job '{target.Name}' takes {target.ParameterTypes.Count} sent arguments, but each item supplies {arity}.", nameof(job));
        }

        return target;
    }
}
