using System.Diagnostics;
using System.Diagnostics.Metrics;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.Telemetry;

/// <summary>One pool's spans and instruments (names in <see cref="ProcessPoolDiagnostics"/>).</summary>
internal sealed class PoolTelemetry : IDisposable
{
    private static ActivitySource Source => ProcessPoolActivitySource.Instance;

    private readonly TimeProvider _time;
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _poolTag;
    private readonly Counter<long> _submitted;
    private readonly Counter<long> _completed;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _workersStarted;
    private readonly Counter<long> _workersExited;

    /// <param name="pool">The pool's name.</param>
    /// <param name="meterFactory">Creates the meter; without one (no host), the pool owns a meter of its own.</param>
    /// <param name="gauges">Reads the pool's queued and in-flight jobs and ready workers, when a listener collects them.</param>
    /// <param name="timeProvider">The clock of queue waits and durations.</param>
    public PoolTelemetry(string pool, IMeterFactory? meterFactory, IPoolGauges gauges, TimeProvider timeProvider)
    {
        _time = timeProvider;
        Pool = pool;
        Ledger = new PoolLedger(timeProvider);
        _poolTag = new(Tags.Pool, pool);
        var options = new MeterOptions(MeterName) { Version = typeof(PoolTelemetry).Assembly.GetName().Version?.ToString() };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        _submitted = _meter.CreateCounter<long>(Instruments.JobsSubmitted, "{job}", "Jobs accepted by the pool.");
        _completed = _meter.CreateCounter<long>(Instruments.JobsCompleted, "{job}", "Jobs answered, by outcome.");
        _duration = _meter.CreateHistogram<double>(Instruments.JobDuration, "s", "Time from a job's dispatch to a worker until its answer.");
        _queueWait = _meter.CreateHistogram<double>(Instruments.QueueWait, "s", "Time a job waited in its queue before a worker took it.");
        _workersStarted = _meter.CreateCounter<long>(Instruments.WorkersStarted, "{worker}", "Worker processes that started and became ready.");
        _workersExited = _meter.CreateCounter<long>(Instruments.WorkersExited, "{worker}", "Worker processes that exited, by reason.");
        _meter.CreateObservableUpDownCounter(Instruments.JobsQueued, () => new Measurement<long>(gauges.QueuedJobs, _poolTag), "{job}", "Jobs waiting in the queues.");
        _meter.CreateObservableUpDownCounter(Instruments.JobsInFlight, () => new Measurement<long>(gauges.InFlightJobs, _poolTag), "{job}", "Jobs running in workers.");
        _meter.CreateObservableUpDownCounter(Instruments.WorkersLive, () => new Measurement<long>(gauges.ReadyWorkers, _poolTag), "{worker}", "Workers ready for jobs.");
    }

    public string Pool { get; }

    /// <summary>The pool's answer counts and last failures, for operators.</summary>
    public PoolLedger Ledger { get; }

    /// <summary>Counts the job and starts its span as a child of the caller's, without making it the caller's current activity.</summary>
    public void OnSubmitted(ITracedJob job)
    {
        if (_queueWait.Enabled)
        {
            job.SubmittedAt = _time.GetTimestamp();
        }

        _submitted.Add(job.ItemCount, _poolTag, new(Tags.Job, job.JobName));
        var caller = Activity.Current;
        job.TraceParent = caller;
        if (Source.HasListeners())
        {
            var activity = Source.StartActivity(JobActivityName, ActivityKind.Client);
            if (activity is not null)
            {
                activity.DisplayName = $"{JobActivityName} {job.JobName}";
                activity.SetTag(Tags.Pool, Pool);
                activity.SetTag(Tags.Job, job.JobName);
                job.Activity = activity;
                job.TraceParent = activity;
                Activity.Current = caller; // the span lives until the answer; the caller's flow keeps its own
            }
        }
    }

    /// <summary>A worker took the job: its queue wait ends, its span learns the worker.</summary>
    public void OnDispatched(ITracedJob job, int workerId, int processId)
    {
        var now = _time.GetTimestamp();
        if (job.DispatchedAt == 0 && job.SubmittedAt != 0)
        {
            var wait = _time.GetElapsedTime(job.SubmittedAt, now).TotalSeconds;
            for (var i = 0; i < job.ItemCount; i++)
            {
                _queueWait.Record(wait, _poolTag, new(Tags.Job, job.JobName));
            }
        }

        job.DispatchedAt = now;
        job.Activity?.SetTag("processpool.job.items", job.ItemCount);
        job.Activity?.SetTag(Tags.WorkerId, workerId);
        job.Activity?.SetTag(Tags.WorkerProcessId, processId);
    }

    /// <summary>A chunk of a map's items ended, each with its own outcome; its duration counts once per item, shared evenly.</summary>
    public void OnFinished(ITracedJob job, int succeeded, int failed, int cancelled)
    {
        Ledger.Count(succeeded, failed, cancelled);
        SampleDuration(job);
        RecordItems(job, succeeded, "success");
        RecordItems(job, failed, "failed");
        RecordItems(job, cancelled, "cancelled");
        Stop(job, failed > 0 ? "failed" : cancelled > 0 ? "cancelled" : "success", null);
    }

    public void OnFinished(ITracedJob job, Exception? exception)
    {
        var outcome = OutcomeOf(exception);
        Ledger.Count(exception is null ? job.ItemCount : 0, exception is null or OperationCanceledException ? 0 : job.ItemCount, exception is OperationCanceledException ? job.ItemCount : 0);
        SampleDuration(job);
        RecordItems(job, job.ItemCount, outcome);
        Stop(job, outcome, exception);
    }

    /// <summary>For an operator who samples durations: one per job (or chunk), its duration shared by its items.</summary>
    private void SampleDuration(ITracedJob job)
    {
        if (Ledger.Durations.IsObserving && job.DispatchedAt != 0)
        {
            Ledger.Durations.Add(_time.GetElapsedTime(job.DispatchedAt).TotalSeconds / job.ItemCount);
        }
    }

    /// <summary>Counts <paramref name="count"/> of the job's items with one outcome, each with an even share of the job's duration.</summary>
    private void RecordItems(ITracedJob job, int count, string outcome)
    {
        if (count == 0)
        {
            return;
        }

        var jobTag = new KeyValuePair<string, object?>(Tags.Job, job.JobName);
        var outcomeTag = new KeyValuePair<string, object?>(Tags.Outcome, outcome);
        _completed.Add(count, _poolTag, jobTag, outcomeTag);
        if (job.DispatchedAt != 0 && _duration.Enabled)
        {
            var perItem = _time.GetElapsedTime(job.DispatchedAt).TotalSeconds / job.ItemCount;
            for (var i = 0; i < count; i++)
            {
                _duration.Record(perItem, _poolTag, jobTag, outcomeTag);
            }
        }
    }

    private static void Stop(ITracedJob job, string outcome, Exception? exception)
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
        null => Outcomes.Success,
        TimeoutException => Outcomes.TimedOut,
        WorkerLostException => Outcomes.WorkerLost,
        OperationCanceledException => Outcomes.Cancelled,
        _ => Outcomes.Failed,
    };

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}

/// <summary>What the pool's telemetry knows of a job: its name and size, and where it keeps the job's timestamps and spans.</summary>
internal interface ITracedJob
{
    string JobName { get; }

    /// <summary>How many of the caller's items the job carries (a map's chunk carries several).</summary>
    int ItemCount { get; }

    /// <summary>When the job was accepted (a timestamp of the pool's <see cref="TimeProvider"/>); 0 when nobody records queue waits.</summary>
    long SubmittedAt { get; set; }

    /// <summary>When the job was last handed to a worker (a timestamp of the pool's <see cref="TimeProvider"/>), 0 before.</summary>
    long DispatchedAt { get; set; }

    /// <summary>The parent's span of the job, when traced.</summary>
    Activity? Activity { get; set; }

    /// <summary>Whose trace the worker continues: the job's span, or the caller's activity when the pool is not traced.</summary>
    Activity? TraceParent { get; set; }
}

/// <summary>The pool's current counts, read by the observable instruments.</summary>
internal interface IPoolGauges
{
    int QueuedJobs { get; }

    int InFlightJobs { get; }

    int ReadyWorkers { get; }
}
