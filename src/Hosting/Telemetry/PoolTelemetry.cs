using System.Diagnostics;
using System.Diagnostics.Metrics;
using ProcessPools.Dispatch;
using ProcessPools.Supervision;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.Telemetry;

/// <summary>One pool's spans and instruments (names in <see cref="ProcessPoolDiagnostics"/>).</summary>
internal sealed class PoolTelemetry : IDisposable
{
    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(PoolTelemetry).Assembly.GetName().Version?.ToString());

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _poolTag;
    private readonly Counter<long> _submitted;
    private readonly Counter<long> _completed;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _workersStarted;
    private readonly Counter<long> _workersExited;

    public PoolTelemetry(PoolEngine pool, IMeterFactory? meterFactory)
    {
        Pool = pool.Name;
        _poolTag = new(Tags.Pool, pool.Name);
        var options = new MeterOptions(MeterName) { Version = typeof(PoolTelemetry).Assembly.GetName().Version?.ToString() };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        _submitted = _meter.CreateCounter<long>(Instruments.JobsSubmitted, "{job}", "Jobs accepted by the pool.");
        _completed = _meter.CreateCounter<long>(Instruments.JobsCompleted, "{job}", "Jobs answered, by outcome.");
        _duration = _meter.CreateHistogram<double>(Instruments.JobDuration, "s", "Time from a job's dispatch to a worker until its answer.");
        _queueWait = _meter.CreateHistogram<double>(Instruments.QueueWait, "s", "Time a job waited in its queue before a worker took it.");
        _workersStarted = _meter.CreateCounter<long>(Instruments.WorkersStarted, "{worker}", "Worker processes that started and became ready.");
        _workersExited = _meter.CreateCounter<long>(Instruments.WorkersExited, "{worker}", "Worker processes that exited, by reason.");
        _meter.CreateObservableUpDownCounter(Instruments.JobsQueued, () => new Measurement<long>(pool.QueuedJobs, _poolTag), "{job}", "Jobs waiting in the queues.");
        _meter.CreateObservableUpDownCounter(Instruments.JobsInFlight, () => new Measurement<long>(pool.InFlightJobs, _poolTag), "{job}", "Jobs running in workers.");
        _meter.CreateObservableUpDownCounter(Instruments.WorkersLive, () => new Measurement<long>(pool.ReadyWorkerCount, _poolTag), "{worker}", "Workers ready for jobs.");
    }

    public string Pool { get; }

    /// <summary>Counts the job and starts its span as a child of the caller's, without making it the caller's current activity.</summary>
    public void OnSubmitted(PendingJob job)
    {
        if (_queueWait.Enabled)
        {
            job.SubmittedAt = Stopwatch.GetTimestamp();
        }

        _submitted.Add(job.ItemCount, _poolTag, new(Tags.Job, job.Target.Name));
        var caller = Activity.Current;
        job.TraceParent = caller;
        if (Source.HasListeners())
        {
            var activity = Source.StartActivity(JobActivityName, ActivityKind.Client);
            if (activity is not null)
            {
                activity.DisplayName = $"{JobActivityName} {job.Target.Name}";
                activity.SetTag(Tags.Pool, Pool);
                activity.SetTag(Tags.Job, job.Target.Name);
                job.Activity = activity;
                job.TraceParent = activity;
                Activity.Current = caller; // the span lives until the answer; the caller's flow keeps its own
            }
        }
    }

    /// <summary>A worker took the job: its queue wait ends, its span learns the worker.</summary>
    public void OnDispatched(PendingJob job, WorkerConnection worker)
    {
        var now = Stopwatch.GetTimestamp();
        if (job.DispatchedAt == 0 && job.SubmittedAt != 0)
        {
            var wait = Stopwatch.GetElapsedTime(job.SubmittedAt, now).TotalSeconds;
            for (var i = 0; i < job.ItemCount; i++)
            {
                _queueWait.Record(wait, _poolTag, new(Tags.Job, job.Target.Name));
            }
        }

        job.DispatchedAt = now;
        job.Activity?.SetTag("processpool.job.items", job.ItemCount);
        job.Activity?.SetTag(Tags.WorkerId, worker.Id);
        job.Activity?.SetTag(Tags.WorkerProcessId, worker.ProcessId);
    }

    /// <summary>A chunk of a map's items ended, each with its own outcome; its duration counts once per item, shared evenly.</summary>
    public void OnFinished(PendingJob job, int succeeded, int failed, int cancelled)
    {
        RecordItems(job, succeeded, "success");
        RecordItems(job, failed, "failed");
        RecordItems(job, cancelled, "cancelled");
        Stop(job, failed > 0 ? "failed" : cancelled > 0 ? "cancelled" : "success", null);
    }

    public void OnFinished(PendingJob job, Exception? exception)
    {
        var outcome = OutcomeOf(exception);
        RecordItems(job, job.ItemCount, outcome);
        Stop(job, outcome, exception);
    }

    /// <summary>Counts <paramref name="count"/> of the job's items with one outcome, each with an even share of the job's duration.</summary>
    private void RecordItems(PendingJob job, int count, string outcome)
    {
        if (count == 0)
        {
            return;
        }

        var jobTag = new KeyValuePair<string, object?>(Tags.Job, job.Target.Name);
        var outcomeTag = new KeyValuePair<string, object?>(Tags.Outcome, outcome);
        _completed.Add(count, _poolTag, jobTag, outcomeTag);
        if (job.DispatchedAt != 0 && _duration.Enabled)
        {
            var perItem = Stopwatch.GetElapsedTime(job.DispatchedAt).TotalSeconds / job.ItemCount;
            for (var i = 0; i < count; i++)
            {
                _duration.Record(perItem, _poolTag, jobTag, outcomeTag);
            }
        }
    }

    private static void Stop(PendingJob job, string outcome, Exception? exception)
    {
        if (job.Activity is { } activity)
        {
            activity.SetTag(Tags.Outcome, outcome);
            if (exception is not null)
            {
                activity.AddException(exception);
                activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            }

            // Stop() makes the stopped span's parent current; this runs on a channel loop, whose flow must not keep it.
            var current = Activity.Current;
            activity.Stop();
            Activity.Current = current;
        }
    }

    public void OnWorkerStarted() => _workersStarted.Add(1, _poolTag);

    public void OnWorkerExited(string reason) => _workersExited.Add(1, _poolTag, new(Tags.ExitReason, reason));

    public static string OutcomeOf(Exception? exception) => exception switch
    {
        null => "success",
        TimeoutException => "timed_out",
        WorkerLostException => "worker_lost",
        OperationCanceledException => "cancelled",
        _ => "failed",
    };

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
