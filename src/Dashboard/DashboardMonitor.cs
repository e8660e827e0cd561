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
/// viewer starts one sampling loop (each pool inspected once per tick: its workers' CPU from their processor time, its
/// rates, and latency from the durations the pools sample only while observed, one per job; bounded chart history);
/// the last one to leave stops it and drops the history.
/// </summary>
internal sealed class DashboardMonitor(IReadOnlyList<IProcessPoolOperator> pools, ProcessPoolDashboardOptions options, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Channel<string>> _viewers = [];
    private readonly Dictionary<(string? Node, int Pid), (TimeSpan Cpu, long At, double? Percent)> _cpu = [];
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
            var inspections = await InspectAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                ReadProcessorTimes(inspections); // a first reading, from which the next tick's CPU is measured
            }

            yield return Serialize(Snapshot(HistoryPart.All, inspections)); // then only the newest point of each: the page appends it
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

    /// <summary>The pools as they are now, with the last sampled CPU when someone watches.</summary>
    public async Task<PoolsView> SnapshotAsync(HistoryPart history, CancellationToken cancellationToken) =>
        Snapshot(history, await InspectAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Inspects every pool at once (a cluster pool asks its silos).</summary>
    private async Task<PoolInspection[]> InspectAsync(CancellationToken cancellationToken) =>
        await Task.WhenAll(pools.Select(p => p.InspectAsync(cancellationToken).AsTask())).ConfigureAwait(false);

    /// <summary>The pools as <paramref name="inspections"/> (one per pool, in order) show them.</summary>
    private PoolsView Snapshot(HistoryPart history, PoolInspection[] inspections)
    {
        var now = time.GetUtcNow();
        var views = new List<PoolView>(pools.Count);
        lock (_gate)
        {
            for (var i = 0; i < pools.Count; i++)
            {
                views.Add(View(pools[i], inspections[i], now, history));
            }
        }

        return new PoolsView(1, now, history switch { HistoryPart.All => "all", HistoryPart.Latest => "latest", _ => null }, HistoryPoints, views);
    }

    /// <summary>A pool's view; under the gate.</summary>
    private PoolView View(IProcessPoolOperator pool, PoolInspection inspection, DateTimeOffset now, HistoryPart part)
    {
        var ready = inspection.Workers.Count(w => w.State == WorkerState.Ready);
        var unreachable = inspection.Nodes.Any(n => n.Pool is null);
        var health = ready == 0 ? "Unhealthy" : ready < inspection.Processes || inspection.CrashLoop is not null || unreachable ? "Degraded" : "Healthy";
        IReadOnlyList<PointView>? history = null;
        if (part != HistoryPart.None && _history.TryGetValue(KeyOf(pool), out var ring) && ring.Count > 0)
        {
            history = part == HistoryPart.All ? [.. ring] : [ring.Last()];
        }

        return new PoolView(
            KeyOf(pool),
            inspection.Nodes.Count > 0 ? "cluster" : "local",
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
            [.. inspection.Nodes.Select(View)],
            [.. inspection.Workers.Select(w => View(w, now))],
            part == HistoryPart.None ? null : history ?? []);
    }

    private static NodeView View(NodeInspection node) => new(
        node.Name,
        node.State,
        node.InFlight,
        node.Pool?.Processes,
        node.Pool?.Workers.Count(w => w.State == WorkerState.Ready),
        node.Pool?.Running,
        node.Pool?.QueueLengths.Sum(),
        node.Pool?.Succeeded,
        node.Pool?.Failed,
        node.Pool?.Restarts,
        node.Pool?.IsDraining ?? false,
        node.Pool?.CrashLoop,
        node.Error);

    private WorkerView View(WorkerInspection worker, DateTimeOffset now)
    {
        double? cpu = worker.ProcessId is { } pid && _cpu.TryGetValue((worker.Node, pid), out var reading) ? reading.Percent : null;
        return new WorkerView(
            worker.WorkerId,
            worker.Node,
            worker.ProcessId,
            worker.State.ToString(),
            worker.Queue,
            worker.StartedAt,
            worker.StartedAt is { } started ? Math.Round((now - started).TotalSeconds, 1) : null,
            worker.Completed,
            worker.JobsUntilRecycle,
            worker.LastHeardFrom,
            worker.PredecessorExit,
            worker.MemoryBytes,
            cpu,
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
        }
    }

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                PoolInspection[] inspections;
                try
                {
                    inspections = await InspectAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    continue; // a pool that cannot be inspected now (its operator threw): the next tick tries again
                }

                Channel<string>[] viewers;
                lock (_gate)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }

                    Sample(inspections);
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

    /// <summary>Adds a chart point per pool and each worker's CPU since the last tick; under the gate.</summary>
    private void Sample(PoolInspection[] inspections)
    {
        var now = time.GetTimestamp();
        var seconds = Math.Max(time.GetElapsedTime(_lastSample, now).TotalSeconds, 0.001);
        _lastSample = now;
        var capacity = HistoryPoints;
        ReadProcessorTimes(inspections);
        for (var i = 0; i < pools.Count; i++)
        {
            var pool = pools[i];
            var inspection = inspections[i];
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
                Math.Round(Math.Max(0, inspection.Succeeded - previous.Item1) / seconds, 2),
                Math.Round(Math.Max(0, inspection.Failed - previous.Item2) / seconds, 2),
                p50,
                p95,
                inspection.QueueLengths.Sum(),
                inspection.Running));
        }
    }

    /// <summary>Each live worker's CPU %: processor time used since the last reading over the time between; under the gate.</summary>
    private void ReadProcessorTimes(PoolInspection[] inspections)
    {
        var now = time.GetTimestamp();
        var seen = new HashSet<(string?, int)>();
        foreach (var worker in inspections.SelectMany(i => i.Workers))
        {
            if (worker.ProcessId is not { } pid || worker.ProcessorTime is not { } cpu || worker.State is WorkerState.Exited)
            {
                continue;
            }

            var key = (worker.Node, pid);
            seen.Add(key);
            double? percent = null;
            if (_cpu.TryGetValue(key, out var before))
            {
                var wall = time.GetElapsedTime(before.At, now).TotalSeconds;
                percent = wall > 0.05 ? Math.Round(Math.Max(0, (cpu - before.Cpu).TotalSeconds) / wall * 100, 1) : before.Percent;
            }

            _cpu[key] = (cpu, now, percent);
        }

        foreach (var gone in _cpu.Keys.Where(k => !seen.Contains(k)).ToArray())
        {
            _cpu.Remove(gone);
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
