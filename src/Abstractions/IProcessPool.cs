namespace ProcessPools;

/// <summary>
/// A pool of worker processes that runs async jobs and returns their results.
/// </summary>
/// <remarks>
/// The convenient entry points are the extension methods of <see cref="ProcessPoolExtensions"/>:
/// <c>ApplyAsync</c>, <c>Map</c> and <c>StarMap</c>, which take a static method or a non-capturing lambda.
/// The members of this interface are the primitives they are built on.
/// </remarks>
public interface IProcessPool : IAsyncDisposable
{
    /// <summary>Gets the pool's name (the empty string for the unnamed pool).</summary>
    string Name { get; }

    /// <summary>
    /// Runs one job in a worker process and returns its result.
    /// </summary>
    /// <typeparam name="TResult">The job's result type; <see cref="object"/> for jobs that return no value (the result is then <see langword="null"/>).</typeparam>
    /// <param name="target">The job to run.</param>
    /// <param name="arguments">The arguments the job's sent parameters take, in order (see <see cref="JobTarget.ParameterTypes"/>).</param>
    /// <param name="cancellationToken">Cancels the job: removed from the queue when not yet dispatched, cancelled in the child otherwise.</param>
    /// <exception cref="ArgumentException">The arguments do not match the job's parameters or cannot be serialized. Nothing was sent.</exception>
    /// <exception cref="RemoteJobException">The job threw in the child.</exception>
    /// <exception cref="WorkerLostException">The worker running the job died before it answered.</exception>
    /// <exception cref="ObjectDisposedException">The pool is closed.</exception>
    Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, CancellationToken cancellationToken = default);

    /// <summary>Runs one job in a worker process with per-call settings (a timeout, retries); see <see cref="InvokeAsync{TResult}(JobTarget, object?[], CancellationToken)"/>.</summary>
    /// <param name="target">The job to run.</param>
    /// <param name="arguments">The arguments the job's sent parameters take, in order.</param>
    /// <param name="options">Overrides the pool's timeout and retries for this job; <see langword="null"/> keeps them.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    /// <exception cref="TimeoutException">The job did not answer within its timeout.</exception>
    Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a job once for each set of arguments drawn lazily from <paramref name="argumentSets"/>.
    /// Starts at once; the result is consumed by awaiting it (a list in input order), enumerating it
    /// (input order) or through <see cref="PoolResult{T}.AsCompleted"/> (completion order).
    /// </summary>
    /// <remarks>
    /// The input is pulled with a bounded window: at most <see cref="ProcessPoolOptions.MapWindow"/>
    /// items are taken from it and not yet handed to the consumer.
    /// </remarks>
    PoolResult<TResult> MapCore<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, CancellationToken cancellationToken = default);

    /// <summary>Runs a job once per set of arguments with per-item settings (a timeout and retries for each item); see <see cref="MapCore{TResult}(JobTarget, IAsyncEnumerable{object?[]}, CancellationToken)"/>.</summary>
    /// <param name="target">The job to run.</param>
    /// <param name="argumentSets">The arguments of each job, pulled lazily.</param>
    /// <param name="options">Overrides the pool's timeout and retries for each item; <see langword="null"/> keeps them.</param>
    /// <param name="cancellationToken">Cancels the map.</param>
    PoolResult<TResult> MapCore<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken);

    /// <summary>
    /// Gets the job class registered with this pool (<c>AddJob&lt;TJob&gt;()</c>) whose argument is of type
    /// <paramref name="argumentType"/>; <c>SendAsync</c> uses it to find the job for a request.
    /// </summary>
    /// <exception cref="InvalidOperationException">No job class of this pool takes that argument type.</exception>
    JobTarget GetJob(Type argumentType);

    /// <summary>Gets a snapshot of the pool: its workers (pid, state, jobs in flight and answered), queue lengths, restarts.</summary>
    ProcessPoolStatus GetStatus();

    /// <summary>
    /// Closes the pool gracefully: new calls fail with <see cref="ObjectDisposedException"/>, queued and running
    /// jobs finish, then the workers exit. After <see cref="ProcessPoolOptions.ShutdownTimeout"/>, or when
    /// <paramref name="cancellationToken"/> fires, what is left is terminated. <see cref="IAsyncDisposable.DisposeAsync"/> does the same.
    /// </summary>
    Task CloseAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Kills every worker at once: running jobs fail with <see cref="WorkerLostException"/>, queued jobs
    /// with <see cref="OperationCanceledException"/>.
    /// </summary>
    Task TerminateAsync();
}
