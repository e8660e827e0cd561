namespace ProcessPools.Worker.Execution;

/// <summary>
/// The <see cref="IProgress{T}"/> a job gets in the worker: each report is serialized and sent at once to
/// the parent, which hands it to the caller's own <see cref="IProgress{T}"/> in the same order.
/// </summary>
internal sealed class ProgressToParent<T>(JobRunner runner, long jobId) : IProgress<T>
{
    public void Report(T value) => runner.SendProgress(jobId, value);
}

internal static class ProgressToParent
{
    /// <summary>A sink for the job: connected to the caller's, or discarding reports when the caller passed none.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode("Makes the sink for a T known at run time.")]
    public static object Create(Type valueType, JobRunner runner, long jobId, bool connected) =>
        Activator.CreateInstance(
            (connected ? typeof(ProgressToParent<>) : typeof(NoProgress<>)).MakeGenericType(valueType),
            connected ? [runner, jobId] : [])!;

    private sealed class NoProgress<T> : IProgress<T>
    {
        public void Report(T value)
        {
        }
    }
}
