namespace ProcessPools.Worker.Execution;

/// <summary>
/// The <see cref="IProgress{T}"/> a job gets in the worker: each report is serialized and sent at once to
/// the parent, which hands it to the caller's own <see cref="IProgress{T}"/> in the same order.
/// </summary>
internal sealed class ProgressToParent<T>(WorkerSession session, long jobId) : IProgress<T>
{
    public void Report(T value) => session.SendProgress(jobId, value, typeof(T));
}

internal static class ProgressToParent
{
    /// <summary>A sink for the job: connected to the caller's, or discarding reports when the caller passed none.</summary>
    public static object Create(Type valueType, WorkerSession session, long jobId, bool connected) =>
        Activator.CreateInstance(
            (connected ? typeof(ProgressToParent<>) : typeof(NoProgress<>)).MakeGenericType(valueType),
            connected ? [session, jobId] : [])!;

    private sealed class NoProgress<T> : IProgress<T>
    {
        public void Report(T value)
        {
        }
    }
}
