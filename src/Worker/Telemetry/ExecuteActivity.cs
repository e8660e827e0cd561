using System.Diagnostics;
using ProcessPools.Protocol;
using ProcessPools.Telemetry;

namespace ProcessPools.Worker.Telemetry;

/// <summary>
/// The worker's span of a job, <see cref="ProcessPoolDiagnostics.ExecuteActivityName"/>, a child of the caller's
/// (its context came ahead of the job). Recorded when the worker's host traces
/// <see cref="ProcessPoolDiagnostics.ActivitySourceName"/>; otherwise an unrecorded activity still carries the
/// trace id and baggage to what the job does.
/// </summary>
internal static class ExecuteActivity
{
    private static ActivitySource Source => ProcessPoolActivitySource.Instance;

    public static Activity? Start(string jobName, string? poolName, int workerId, byte[]? traceContext)
    {
        if (traceContext is null)
        {
            return Source.HasListeners() ? Tag(Source.StartActivity(ProcessPoolDiagnostics.ExecuteActivityName, ActivityKind.Server)) : null;
        }

        var (traceParent, traceState, baggage) = TraceContextPayload.Decode(traceContext);
        Activity? activity = null;
        if (Source.HasListeners() && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent))
        {
            activity = Source.StartActivity(ProcessPoolDiagnostics.ExecuteActivityName, ActivityKind.Server, parent);
        }

        if (activity is null)
        {
            activity = new Activity(ProcessPoolDiagnostics.ExecuteActivityName);
            activity.SetParentId(traceParent);
            activity.TraceStateString = traceState;
            activity.Start();
        }

        foreach (var (key, value) in baggage.Reverse())
        {
            activity.AddBaggage(key, value);
        }

        return Tag(activity);

        Activity? Tag(Activity? started)
        {
            if (started is not null)
            {
                started.SetTag(ProcessPoolDiagnostics.Tags.Pool, poolName);
                started.SetTag(ProcessPoolDiagnostics.Tags.Job, jobName);
                started.SetTag(ProcessPoolDiagnostics.Tags.WorkerId, workerId);
                started.SetTag(ProcessPoolDiagnostics.Tags.WorkerProcessId, Environment.ProcessId);
                started.DisplayName = $"{ProcessPoolDiagnostics.ExecuteActivityName} {jobName}";
            }

            return started;
        }
    }

    /// <summary>Ends the span with the job's outcome; ended before the answer goes out, so it is complete (and exported) when the caller resumes.</summary>
    public static void Stop(Activity? activity, string outcome, Exception? exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(ProcessPoolDiagnostics.Tags.Outcome, outcome);
        if (exception is not null)
        {
            activity.AddException(exception);
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        activity.Stop();
    }
}
