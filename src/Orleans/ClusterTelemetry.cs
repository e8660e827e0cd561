using System.Diagnostics;
using System.Diagnostics.Metrics;
using ProcessPools.Telemetry;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.Orleans;

/// <summary>A cluster pool's spans and instruments: the same meter and source as a local pool's, each measurement tagged by silo.</summary>
internal sealed class ClusterTelemetry : IDisposable
{
    /// <summary>Items answered through the cluster, by silo and outcome.</summary>
    public const string ItemsCompleted = "processpool.cluster.job.completed";

    /// <summary>Time from sending a job or chunk to a silo until its answer.</summary>
    public const string CallDuration = "processpool.cluster.call.duration";

    /// <summary>Items in flight on each silo, as this front end counts them.</summary>
    public const string ItemsInFlight = "processpool.cluster.job.in_flight";

    /// <summary>Silos that run the execution grain.</summary>
    public const string SilosLive = "processpool.cluster.silo.live";

    /// <summary>The tag naming the silo.</summary>
    public const string SiloTag = "processpool.silo";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _poolTag;
    private readonly Counter<long> _completed;
    private readonly Histogram<double> _duration;

    public ClusterTelemetry(string pool, IMeterFactory? meterFactory, SiloDirectory directory)
    {
        _poolTag = new(Tags.Pool, pool);
        var options = new MeterOptions(MeterName) { Version = typeof(ClusterTelemetry).Assembly.GetName().Version?.ToString() };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        _completed = _meter.CreateCounter<long>(ItemsCompleted, "{job}", "Jobs (map items) answered through the cluster, by silo and outcome.");
        _duration = _meter.CreateHistogram<double>(CallDuration, "s", "Time from sending a job or a chunk of a map to a silo until its answer.");
        _meter.CreateObservableUpDownCounter(
            ItemsInFlight,
            () => directory.Silos.Select(s => new Measurement<long>(s.InFlight, _poolTag, new(SiloTag, s.Name))),
            "{job}",
            "Calls (jobs and chunks of maps) this front end has in flight on each silo.");
        _meter.CreateObservableUpDownCounter(SilosLive, () => new Measurement<long>(directory.Silos.Count, _poolTag), "{silo}", "Silos that run the execution grain.");
    }

    /// <summary>Starts the front end's span of a job, the parent of Orleans' call and of the silo's and worker's spans.</summary>
    public Activity? StartJob(string jobName)
    {
        var activity = ProcessPoolActivitySource.Instance.StartActivity(JobActivityName, ActivityKind.Client);
        activity?.SetTag(Tags.Pool, _poolTag.Value);
        activity?.SetTag(Tags.Job, jobName);
        return activity;
    }

    public void OnAnswered(string silo, int items, string outcome, TimeSpan elapsed)
    {
        _completed.Add(items, _poolTag, new(SiloTag, silo), new(Tags.Outcome, outcome));
        _duration.Record(elapsed.TotalSeconds, _poolTag, new(SiloTag, silo));
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
