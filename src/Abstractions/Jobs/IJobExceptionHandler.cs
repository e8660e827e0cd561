namespace ProcessPools;

/// <summary>
/// Runs in the worker process when a job throws, before the exception is sent to the caller
/// (aiomultiprocess's <c>exception_handler</c>): report it to an error tracker, count it, log it with the
/// worker's own services. Registered with <c>AddJobExceptionHandler&lt;T&gt;()</c> and resolved from the
/// worker's container.
/// </summary>
/// <remarks>
/// The caller still receives the job's exception. A handler that throws does not change that; its own
/// exception is written to the worker's standard error. Cancelled jobs do not reach handlers.
/// </remarks>
public interface IJobExceptionHandler
{
    /// <summary>Observes a job's failure in the worker process.</summary>
    /// <param name="context">The job and its exception.</param>
    /// <param name="cancellationToken">Signalled when the worker loses its parent.</param>
    ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken);
}

/// <summary>A job's failure, as an <see cref="IJobExceptionHandler"/> sees it in the worker process.</summary>
public sealed class JobExceptionContext
{
    /// <summary>Creates the context of a failure.</summary>
    /// <param name="jobName">The job's name (<c>Type.Method</c>, or the job class).</param>
    /// <param name="exception">What the job threw.</param>
    /// <param name="arguments">The job's arguments as the worker deserialized them (bound parameters excluded).</param>
    public JobExceptionContext(string jobName, Exception exception, IReadOnlyList<object?> arguments)
    {
        ArgumentNullException.ThrowIfNull(jobName);
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(arguments);
        JobName = jobName;
        Exception = exception;
        Arguments = arguments;
    }

    /// <summary>Gets the job's name (<c>Type.Method</c>, or the job class).</summary>
    public string JobName { get; }

    /// <summary>Gets what the job threw.</summary>
    public Exception Exception { get; }

    /// <summary>Gets the job's arguments as the worker deserialized them (bound parameters excluded).</summary>
    public IReadOnlyList<object?> Arguments { get; }
}
