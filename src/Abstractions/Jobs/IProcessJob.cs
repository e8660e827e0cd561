namespace ProcessPools;

/// <summary>
/// A job class: created in the worker process from a dependency-injection scope per job, so it can
/// take services (an <c>HttpClient</c>, a <c>DbContext</c>, an <c>ILogger</c>) in its constructor.
/// </summary>
/// <typeparam name="TArgument">The argument sent from the caller.</typeparam>
/// <typeparam name="TResult">The result sent back.</typeparam>
public interface IProcessJob<in TArgument, TResult>
{
    /// <summary>Runs the job in the worker process.</summary>
    /// <param name="argument">The argument, deserialized in the child.</param>
    /// <param name="cancellationToken">Signalled when the caller cancels the job or the worker shuts down.</param>
    Task<TResult> ExecuteAsync(TArgument argument, CancellationToken cancellationToken);
}
