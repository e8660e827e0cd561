using System.Diagnostics;
using System.Diagnostics.Metrics;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.Orleans.Telemetry;

/// <summary>A cluster pool's spans and instruments: the same meter and source as a local pool's, each measurement tagged by silo.</summary>
internal sealed class ClusterTelemetry : IDisposable
{
    /// <summary>The package's own source of the same name as the local pool's: listeners subscribe by name.</summary>
    private static readonly ActivitySource Source = new(ActivitySourceName, typeof(ClusterTelemetry).Assembly.GetName().Version?.ToString());

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _poolTag;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _resent;
    private readonly Histogram<double> _duration;

    public ClusterTelemetry(string pool, IMeterFactory? meterFactory, Func<IEnumerable<(string Silo, int InFlight)>> silos)
    {
        _poolTag = new(Tags.Pool, pool);
        var options = new MeterOptions(MeterName) { Version = typeof(ClusterTelemetry).Assembly.GetName().Version?.ToString() };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        _completed = _meter.CreateCounter<long>(Instruments.ClusterJobsCompleted, "{job}", "Jobs (map items) answered through the cluster, by silo and outcome.");
        _resent = _meter.CreateCounter<long>(Instruments.ClusterCallsResent, "{call}", "Calls sent again because they never reached a silo's pool; not counted against the job's retries.");
        _duration = _meter.CreateHistogram<double>(Instruments.ClusterCallDuration, "s", "Time from sending a job or a chunk of a map to a silo until its answer.");
        _meter.CreateObservableUpDownCounter(
            Instruments.ClusterCallsInFlight,
            () => silos().Select(s => new Measurement<long>(s.InFlight, _poolTag, new(Tags.Silo, s.Silo))),
            "{call}",
            "Calls (jobs and chunks of maps) this front end has in flight on each silo.");
        _meter.CreateObservableUpDownCounter(Instruments.ClusterSilosLive, () => new Measurement<long>(silos().Count(), _poolTag), "{silo}", "Silos that run the execution grain.");
    }

    /// <summary>Starts the front end's span of a job, the parent of Orleans' call and of the silo's and worker's spans.</summary>
    public Activity? StartJob(string jobName)
    {
        var activity = Source.StartActivity(JobActivityName, ActivityKind.Client);
        activity?.SetTag(Tags.Pool, _poolTag.Value);
        activity?.SetTag(Tags.Job, jobName);
        return activity;
    }

    /// <summary>A call's items were answered by a silo (or lost with it), with one of <see cref="Outcomes"/>.</summary>
    public void OnAnswered(string silo, int items, string outcome, TimeSpan elapsed)
    {
        _completed.Add(items, _poolTag, new(Tags.Silo, silo), new(Tags.Outcome, outcome));
        _duration.Record(elapsed.TotalSeconds, _poolTag, new(Tags.Silo, silo));
        if (Durations.IsObserving && items > 0)
        {
            Durations.Add(elapsed.TotalSeconds / items);
        }
    }

    /// <summary>Calls' durations (per item), kept only while an operator observes them.</summary>
    public ProcessPools.Telemetry.DurationSampler Durations { get; } = new();

    /// <summary>A call never reached a silo's pool and is sent again.</summary>
    public void OnResent(string silo) => _resent.Add(1, _poolTag, new(Tags.Silo, silo));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
