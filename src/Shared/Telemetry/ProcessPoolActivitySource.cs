using System.Diagnostics;

namespace ProcessPools.Telemetry;

/// <summary>
/// The one <see cref="ActivitySource"/> of ProcessPool's spans (<see cref="ProcessPoolDiagnostics.ActivitySourceName"/>):
/// the parent's <c>processpool.job</c> and the worker's <c>processpool.job.execute</c>.
/// </summary>
internal static class ProcessPoolActivitySource
{
    public static readonly ActivitySource Instance = new(ProcessPoolDiagnostics.ActivitySourceName, typeof(ProcessPoolDiagnostics).Assembly.GetName().Version?.ToString());
}
