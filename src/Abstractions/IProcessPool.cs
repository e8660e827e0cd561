using ProcessPools.Jobs;

namespace ProcessPools;

/// <summary>
/// A pool of worker processes that runs async jobs and returns their results.
/// </summary>
/// <remarks>
/// The convenient entry points are the extension methods of <see cref="ProcessPoolExtensions"/>:
/// <c>ApplyAsync</c>, <c>Map</c>, <c>StarMap</c> and <c>SendAsync</c>, which take a static method, a
/// non-capturing lambda or a request. The members of this interface are the primitives they are built on:
/// one per operation, each with optional per-call <see cref="JobOptions"/>.
/// <para>
/// Whoever has an <see cref="IProcessPool"/> uses the pool; only its owner closes it: the hosted service of a pool
/// registered with <c>AddProcessPool</c>, or the caller of <c>ProcessPool.StartAsync</c>, which returns an
/// <see cref="IProcessPoolOwner"/>. As with <c>IHttpClientFactory</c>, a consumer never disposes what it was given.
/// </para>
/// </remarks>
public interface IProcessPool
{
    /// <summary>Gets the pool's name (the empty string for the default pool).</summary>
    string Name { get; }

    /// <summary>Runs one job in a worker process and returns its result.</summary>
    /// <typeparam name="TResult">The job's result type; <see cref="object"/> for jobs that return no value (the result is then <see langword="null"/>).</typeparam>
    /// <param name="target">The job to run.</param>
    /// <param name="arguments">The arguments the job's sent parameters take, in order (see <see cref="JobTarget.ParameterTypes"/>).</param>
    /// <param name="options">Overrides the pool's timeout and retries for this job; <see langword="null"/> keeps them.</param>
    /// <param name="cancellationToken">Cancels the job: removed from the queue when not yet dispatched, cancelled in the child otherwise.</param>
    /// <exception cref="ArgumentException">The arguments do not match the job's parameters or cannot be serialized. Nothing was sent.</exception>
    /// <exception cref="InvalidOperationException">The job is a job class or request this pool has no registration for. Nothing was sent.</exception>
    /// <exception cref="RemoteJobException">The job threw in the child.</exception>
    /// <exception cref="WorkerLostException">The worker running the job died before it answered.</exception>
    /// <exception cref="TimeoutException">The job did not answer within its timeout.</exception>
    /// <exception cref="ObjectDisposedException">The pool is closed.</exception>
    Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a job once for each set of arguments drawn lazily from <paramref name="argumentSets"/>.
    /// Starts at once; the result is consumed by awaiting it (a list in input order), enumerating it
    /// (input order) or through <see cref="PoolResult{T}.AsCompleted"/> (completion order).
    /// </summary>
    /// <param name="target">The job to run.</param>
    /// <param name="argumentSets">The arguments of each job, pulled lazily: at most <see cref="ProcessPoolOptions.MapWindow"/> items ahead of the consumer.</param>
    /// <param name="options">Overrides the pool's timeout and retries for each item; <see langword="null"/> keeps them.</param>
    /// <param name="cancellationToken">Cancels the map: items not yet answered end as cancelled.</param>
    PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a one-argument job once for each item of <paramref name="items"/>, as <see cref="InvokeMany{TResult}"/>
    /// does with one argument per set. A pool may keep the items typed from the sequence into their bytes
    /// (no argument array per item): the fast path of <c>Map</c> over many small items.
    /// </summary>
    /// <param name="target">The job to run; it takes one sent argument.</param>
    /// <param name="items">The items, pulled lazily.</param>
    /// <param name="options">Overrides the pool's timeout and retries for each item; <see langword="null"/> keeps them.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    PoolResult<TResult> InvokeEach<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        return InvokeMany<TResult>(target, ArgumentSets.Of(items), options, cancellationToken);
    }

    /// <summary>
    /// Gets the pool's status now: its workers (pid, state, queue, jobs in flight and answered), queue lengths and
    /// restarts. A local pool answers at once from what it knows; a cluster pool asks its silos first, and names each
    /// worker's silo in <see cref="WorkerStatus.Node"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the answer (a cluster's silos).</param>
    ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A pool together with the right to end it: what <c>ProcessPool.StartAsync</c> returns to its caller (and what a pool's
/// hosted service holds). Hand others the <see cref="IProcessPool"/> it is: they use the pool, the owner closes it.
/// </summary>
public interface IProcessPoolOwner : IProcessPool, IAsyncDisposable
{
    /// <summary>
    /// Closes the pool gracefully: new calls fail with <see cref="ObjectDisposedException"/>, queued and running
    /// jobs finish, then the workers exit. After <see cref="ProcessPoolOptions.ShutdownTimeout"/>, or when
    /// <paramref name="cancellationToken"/> fires, what is left is terminated. <see cref="IAsyncDisposable.DisposeAsync"/> does the same.
    /// </summary>
    /// <param name="cancellationToken">Ends the graceful part: what is left is terminated.</param>
    Task CloseAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Kills every worker at once: running jobs fail with <see cref="WorkerLostException"/>, queued jobs
    /// with <see cref="OperationCanceledException"/>.
    /// </summary>
    Task TerminateAsync();
}
