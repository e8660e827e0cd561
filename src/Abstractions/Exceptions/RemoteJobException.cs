using System.Text;

namespace ProcessPools;

/// <summary>
/// A job threw in its worker process. Carries the remote exception's type, message, stack trace and
/// inner exceptions; match on the original type with <see cref="Is{TException}"/>.
/// </summary>
/// <remarks>
/// The remote exception object itself is not rebuilt: its type may not exist in the caller, and
/// deserializing arbitrary exception types is how remote code execution bugs start.
/// </remarks>
public sealed class RemoteJobException : ProcessPoolException
{
    /// <summary>Creates the exception from the parts a worker sent back.</summary>
    /// <param name="jobName">The job that threw.</param>
    /// <param name="remoteTypeHierarchy">The remote exception's type and its base types, most derived first, as full names.</param>
    /// <param name="remoteMessage">The remote exception's message.</param>
    /// <param name="remoteStackTrace">The remote exception's stack trace, if it had one.</param>
    /// <param name="innerExceptions">The remote exception's inner exceptions (all of them for an <see cref="AggregateException"/>).</param>
    public RemoteJobException(
        string jobName,
        IReadOnlyList<string> remoteTypeHierarchy,
        string remoteMessage,
        string? remoteStackTrace,
        IReadOnlyList<RemoteJobException>? innerExceptions = null)
        : base(
            $"Job '{jobName}' failed in its worker process with {First(remoteTypeHierarchy)}: {remoteMessage}",
            innerExceptions is { Count: > 0 } ? innerExceptions[0] : null)
    {
        ArgumentNullException.ThrowIfNull(jobName);
        JobName = jobName;
        RemoteTypeHierarchy = remoteTypeHierarchy;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
        InnerExceptions = innerExceptions ?? [];
    }

    /// <summary>Gets the name of the job that threw.</summary>
    public string JobName { get; }

    /// <summary>Gets the full name of the remote exception's type, such as <c>System.InvalidOperationException</c>.</summary>
    public string RemoteType => First(RemoteTypeHierarchy);

    /// <summary>Gets the remote exception's type and base types, most derived first.</summary>
    public IReadOnlyList<string> RemoteTypeHierarchy { get; }

    /// <summary>Gets the remote exception's own message.</summary>
    public string RemoteMessage { get; }

    /// <summary>Gets the remote exception's stack trace, as the worker printed it.</summary>
    public string? RemoteStackTrace { get; }

    /// <summary>Gets the remote exception's inner exceptions, each as a <see cref="RemoteJobException"/>.</summary>
    public IReadOnlyList<RemoteJobException> InnerExceptions { get; }

    /// <summary>
    /// Whether the remote exception was a <typeparamref name="TException"/> or derived from it,
    /// the way a <c>catch (TException)</c> would have matched in the child.
    /// </summary>
    public bool Is<TException>()
        where TException : Exception => Is(typeof(TException));

    /// <summary>Whether the remote exception was of <paramref name="exceptionType"/> or derived from it.</summary>
    public bool Is(Type exceptionType)
    {
        ArgumentNullException.ThrowIfNull(exceptionType);
        var name = exceptionType.FullName;
        return name is not null && RemoteTypeHierarchy.Contains(name, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder(base.ToString());
        text.AppendLine().Append("--- remote ").Append(RemoteType).Append(" in job '").Append(JobName).AppendLine("' ---");
        if (RemoteStackTrace is not null)
        {
            text.AppendLine(RemoteStackTrace);
        }

        return text.ToString();
    }

    private static string First(IReadOnlyList<string> hierarchy) => hierarchy is { Count: > 0 } ? hierarchy[0] : "System.Exception";
}
