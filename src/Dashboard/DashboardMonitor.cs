using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using ProcessPools.Operations;

namespace ProcessPools.Dashboard;

/// <summary>How much chart history a snapshot carries.</summary>
internal enum HistoryPart
{
    None,
    All,
    Latest,
}

/// <summary>
/// The dashboard's live side. While nobody watches it does nothing: no timer, no listener, no sampling. The first
/// viewer starts one sampling loop (each worker's memory and CPU, each pool's rates, and latency from the durations the
/// pools sample only while observed, one per job; bounded chart history);
/// the last one to leave stops it and drops the history.
/// </summary>
internal sealed class DashboardMonitor(IReadOnlyList<IProcessPoolOperator> pools, ProcessPoolDashboardOptions options, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Channel<string>> _viewers = [];
    private readonly Dictionary<int, (TimeSpan Cpu, long At)> _cpu = [];
    private readonly Dictionary<int, (long Memory, double? Cpu)> _usage = [];
    private readonly Dictionary<string, Queue<PointView>> _history = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Succeeded, long Failed)> _counts = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _observations = [];
    private CancellationTokenSource? _sampling;
    private long _lastSample;

    /// <summary>How many points a pool's chart keeps: History / RefreshInterval, from 10 to 3,600.</summary>
    public int HistoryPoints => (int)Math.Clamp(options.History / Interval, 10, 3600);

    private TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Clamp(options.RefreshInterval.TotalMilliseconds, 250, 60_000));

    public IProcessPoolOperator? Find(string name) =>
        pools.FirstOrDefault(p => string.Equals(KeyOf(p), name, StringComparison.Ordinal));

    public static string KeyOf(IProcessPoolOperator pool) => pool.Name.Length == 0 ? ProcessPoolDiagnostics.DefaultPoolName : pool.Name;

    /// <summary>A viewer's snapshots, one per refresh, starting with one now; watching ends when the token fires.</summary>
    public async IAsyncEnumerable<string> WatchAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        Join(channel);
        try
        {
            yield return Serialize(Snapshot(HistoryPart.All)); // then only the newest point of each: the page appends it
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var snapshot))
                {
                    yield return snapshot;
                }
            }
        }
        finally
        {
            Leave(channel);
        }
    }

    /// <summary>The pools as they are now, with the last sampled memory and CPU when someone watches.</summary>
    public PoolsView Snapshot(HistoryPart history) => Snapshot(history, [.. pools.Select(p => p.Inspect())]);

    /// <summary>The pools as <paramref name="inspections"/> (one per pool, in order) show them.</summary>
    private PoolsView Snapshot(HistoryPart history, PoolInspection[] inspections)
    {
        var now = time.GetUtcNow();
        var views = new List<PoolView>(pools.Count);
        for (var i = 0; i < pools.Count; i++)
        {
            views.Add(View(pools[i], inspections[i], now, history));
        }

        return new PoolsView(1, now, history switch { HistoryPart.All => "all", HistoryPart.Latest => "latest", _ => null }, HistoryPoints, views);
    }

    private PoolView View(IProcessPoolOperator pool, PoolInspection inspection, DateTimeOffset now, HistoryPart part)
    {
        var ready = inspection.Workers.Count(w => w.State == WorkerState.Ready);
        var health = ready == 0 ? "Unhealthy" : ready < inspection.Processes || inspection.CrashLoop is not null ? "Degraded" : "Healthy";
        IReadOnlyList<PointView>? history = null;
        lock (_gate)
        {
            if (part != HistoryPart.None && _history.TryGetValue(KeyOf(pool), out var ring) && ring.Count > 0)
            {
                history = part == HistoryPart.All ? [.. ring] : [ring.Last()];
            }

            return new PoolView(
                KeyOf(pool),
                health,
                inspection.Processes,
                inspection.ChildConcurrency,
                inspection.MaxTasksPerChild,
                inspection.IsAcceptingJobs,
                inspection.IsDraining,
                inspection.QueueLengths,
                inspection.QueueLengths.Sum(),
                inspection.Running,
                inspection.Succeeded,
                inspection.Failed,
                inspection.Cancelled,
                inspection.Retried,
                inspection.Restarts,
                inspection.CrashLoop,
                pool.RecentFailures().Count,
                [.. inspection.Workers.Select(w => View(w, now))],
                part == HistoryPart.None ? null : history ?? []);
        }
    }

    private WorkerView View(WorkerInspection worker, DateTimeOffset now)
    {
        (long Memory, double? Cpu)? usage = worker.ProcessId is { } pid && _usage.TryGetValue(pid, out var u) ? u : null;
        return new WorkerView(
            worker.WorkerId,
            worker.ProcessId,
            worker.State.ToString(),
            worker.Queue,
            worker.StartedAt,
            worker.StartedAt is { } started ? Math.Round((now - started).TotalSeconds, 1) : null,
            worker.Completed,
            worker.JobsUntilRecycle,
            worker.LastHeardFrom,
            worker.PredecessorExit,
            usage?.Memory,
            usage?.Cpu,
            [.. worker.Running.Select(j => new JobView(j.JobId, j.JobName, j.Items, j.Attempt, Math.Round(j.RunningFor.TotalSeconds, 2)))]);
    }

    private void Join(Channel<string> viewer)
    {
        lock (_gate)
        {
            _viewers.Add(viewer);
            if (_sampling is not null)
            {
                return;
            }

            _sampling = new CancellationTokenSource();
            _lastSample = time.GetTimestamp();
            _observations.AddRange(pools.Select(p => p.ObserveDurations())); // the pools sample durations only now
            _ = Sample(); // the first snapshot already has memory and CPU readings to show
            _ = SampleAsync(_sampling.Token);
        }
    }

    private void Leave(Channel<string> viewer)
    {
        lock (_gate)
        {
            _viewers.Remove(viewer);
            if (_viewers.Count > 0 || _sampling is null)
            {
                return;
            }

            _sampling.Cancel();
            _sampling.Dispose();
            _sampling = null;
            StopObserving();
            _history.Clear();
            _counts.Clear();
            _cpu.Clear();
            _usage.Clear();
        }
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Channel<string>[] viewers;
                PoolInspection[] inspections;
                lock (_gate)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    inspections = Sample();
                    viewers = [.. _viewers];
                }

                var snapshot = Serialize(Snapshot(HistoryPart.Latest, inspections)); // what was sampled, not a second reading
                foreach (var viewer in viewers)
                {
                    viewer.Writer.TryWrite(snapshot);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The last viewer left.
        }
    }

    /// <summary>Reads each worker's memory and CPU and adds a chart point per pool; under the gate. Answers the inspections it read.</summary>
    private PoolInspection[] Sample()
    {
        var inspections = new PoolInspection[pools.Count];
        var now = time.GetTimestamp();
        var seconds = Math.Max(time.GetElapsedTime(_lastSample, now).TotalSeconds, 0.001);
        _lastSample = now;
        var seen = new HashSet<int>();
        var capacity = HistoryPoints;
        for (var i = 0; i < pools.Count; i++)
        {
            var pool = pools[i];
            var inspection = inspections[i] = pool.Inspect();
            foreach (var worker in inspection.Workers)
            {
                if (worker.ProcessId is { } pid && worker.State is not WorkerState.Exited)
                {
                    seen.Add(pid);
                    _usage[pid] = Measure(pid, now);
                }
            }

            var key = KeyOf(pool);
            var previous = _counts.TryGetValue(key, out var counts) ? counts : (inspection.Succeeded, inspection.Failed);
            _counts[key] = (inspection.Succeeded, inspection.Failed);
            double? p50 = null, p95 = null;
            if (pool.TakeDurations() is { Count: > 0 } taken)
            {
                var durations = taken.Select(d => d.TotalMilliseconds).Order().ToArray();
                p50 = Math.Round(durations[(int)((durations.Length - 1) * 0.50)], 3);
                p95 = Math.Round(durations[(int)((durations.Length - 1) * 0.95)], 3);
            }

            if (!_history.TryGetValue(key, out var ring))
            {
                _history[key] = ring = new Queue<PointView>(capacity);
            }

            while (ring.Count >= capacity)
            {
                ring.Dequeue();
            }

            ring.Enqueue(new PointView(
                time.GetUtcNow(),
                Math.Round((inspection.Succeeded - previous.Item1) / seconds, 2),
                Math.Round((inspection.Failed - previous.Item2) / seconds, 2),
                p50,
                p95,
                inspection.QueueLengths.Sum(),
                inspection.Running));
        }

        foreach (var gone in _usage.Keys.Where(pid => !seen.Contains(pid)).ToArray())
        {
            _usage.Remove(gone);
            _cpu.Remove(gone);
        }

        return inspections;
    }

    private (long Memory, double? Cpu) Measure(int pid, long now)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            var cpu = process.TotalProcessorTime;
            double? percent = null;
            if (_cpu.TryGetValue(pid, out var before))
            {
                var wall = time.GetElapsedTime(before.At, now).TotalSeconds;
                percent = wall > 0 ? Math.Round((cpu - before.Cpu).TotalSeconds / wall * 100, 1) : null;
            }

            _cpu[pid] = (cpu, now);
            return (process.WorkingSet64, percent);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return (0, null); // exited between the inspection and the reading
        }
    }

    private void StopObserving()
    {
        foreach (var observation in _observations)
        {
            observation.Dispose();
        }

        _observations.Clear();
    }

    /// <summary>The application stops: sampling ends, and viewers' streams with their requests.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _sampling?.Cancel();
            _sampling?.Dispose();
            _sampling = null;
            StopObserving();
            foreach (var viewer in _viewers)
            {
                viewer.Writer.TryComplete();
            }
        }
    }

    public static string Serialize(PoolsView view) => JsonSerializer.Serialize(view, DashboardJson.Default.PoolsView);
}
