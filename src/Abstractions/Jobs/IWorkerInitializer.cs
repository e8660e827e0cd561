namespace ProcessPools;

/// <summary>
/// Runs once in every worker process, after its host has started and before it takes its first job
/// (aiomultiprocess's <c>initializer</c>). Resolved from the worker's own container, so it can take
/// services and options bound from the worker's configuration (the counterpart of <c>initargs</c>).
/// </summary>
/// <remarks>An initializer that throws fails that worker's start; at host start, the host's start fails with its message.</remarks>
public interface IWorkerInitializer
{
    /// <summary>Prepares the worker (warms caches, opens connections).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);
}
