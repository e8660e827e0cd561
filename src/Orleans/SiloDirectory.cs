using Microsoft.Extensions.Logging;
using Orleans.Metadata;

namespace ProcessPools.Orleans;

/// <summary>
/// The silos that run the execution grain, from Orleans' cluster manifest (a silo is listed once it runs the grain and
/// leaves the list when membership declares it dead), and where the next job goes: the silo with the most free slots.
/// </summary>
internal sealed partial class SiloDirectory : IAsyncDisposable
{
    private static readonly GrainType ExecutionGrain = GrainType.Create(ProcessPoolGrain.GrainTypeName);

    private readonly IClusterManifestProvider _manifests;
    private readonly IGrainFactory _grains;
    private readonly string _siloPool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Dictionary<SiloAddress, SiloEntry> _silos = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _watching = Task.CompletedTask;
    private uint _turn;

    public SiloDirectory(IClusterManifestProvider manifests, IGrainFactory grains, string siloPool, TimeProvider time, ILogger logger)
    {
        _manifests = manifests;
        _grains = grains;
        _siloPool = siloPool;
        _time = time;
        _logger = logger;
    }

    /// <summary>The silos as now known.</summary>
    public IReadOnlyCollection<SiloEntry> Silos
    {
        get
        {
            lock (_gate)
            {
                return [.. _silos.Values];
            }
        }
    }

    /// <summary>The jobs all known silos run at once.</summary>
    public int Capacity => Silos.Sum(s => Math.Max(1, s.Capacity));

    /// <summary>Identifies this front end to the silos, with the numbers of its calls.</summary>
    public Guid FrontEnd { get; } = Guid.NewGuid();

    /// <summary>How often calls in flight for longer than this are checked with their silo.</summary>
    internal static readonly TimeSpan CallCheckInterval = TimeSpan.FromSeconds(2);

    public void Start()
    {
        Apply(_manifests.Current);
        _watching = Task.WhenAll(Task.Run(WatchAsync), Task.Run(CheckCallsAsync));
    }

    /// <summary>
    /// Every <see cref="CallCheckInterval"/>, asks each silo about the calls this front end has had in flight there for
    /// longer than that: a call the silo does not run in two checks in a row was lost on the way, and is answered as lost
    /// (retried or failed) instead of waiting for an answer that cannot come. Nothing is asked while calls are short.
    /// </summary>
    private async Task CheckCallsAsync()
    {
        using var timer = new PeriodicTimer(CallCheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var now = _time.GetTimestamp();
                var old = (long)(CallCheckInterval.TotalSeconds * _time.TimestampFrequency);
                foreach (var silo in Silos)
                {
                    var due = silo.Calls.Values.Where(c => now - c.StartedAt > old && !c.IsOrphaned).ToArray();
                    if (due.Length == 0 || silo.IsLost)
                    {
                        continue;
                    }

                    try
                    {
                        var unknown = (await silo.Grain.UnknownCallsAsync(FrontEnd, [.. due.Select(c => c.Id)]).WaitAsync(CallCheckInterval, _time, _stop.Token).ConfigureAwait(false)).ToHashSet();
                        foreach (var call in due)
                        {
                            call.Strikes = unknown.Contains(call.Id) ? call.Strikes + 1 : 0;
                            if (call.Strikes >= 2)
                            {
                                LogCallLost(_logger, call.Id, silo.Name);
                                call.MarkOrphaned();
                            }
                        }
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException || !_stop.IsCancellationRequested)
                    {
                        // The silo did not answer: membership decides whether it is gone; its calls wait for that.
                        LogReportFailed(_logger, exception, silo.Name);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task WatchAsync()
    {
        try
        {
            await foreach (var manifest in _manifests.Updates.WithCancellation(_stop.Token).ConfigureAwait(false))
            {
                Apply(manifest);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private void Apply(ClusterManifest manifest)
    {
        List<SiloEntry> joined = [], left = [];
        lock (_gate)
        {
            var next = new Dictionary<SiloAddress, SiloEntry>();
            foreach (var (address, silo) in manifest.Silos)
            {
                if (!silo.Grains.ContainsKey(ExecutionGrain))
                {
                    continue;
                }

                if (!_silos.TryGetValue(address, out var entry))
                {
                    entry = new SiloEntry(address, _grains.GetGrain<IProcessPoolGrain>(SiloPinnedPlacementDirector.KeyOf(address, _siloPool)));
                    joined.Add(entry);
                }

                next[address] = entry;
            }

            left.AddRange(_silos.Values.Where(s => !next.ContainsKey(s.Address)));
            _silos = next;
            if (joined.Count + left.Count > 0)
            {
                Signal();
            }
        }

        foreach (var entry in left)
        {
            LogSiloLeft(_logger, entry.Name, entry.InFlight);
            entry.MarkLost();
        }

        foreach (var entry in joined)
        {
            LogSiloJoined(_logger, entry.Name);
            _ = RefreshAsync(entry);
        }
    }

    /// <summary>
    /// Asks a silo's grain for its capacity and workers. A silo takes jobs only once its grain answered this: that proves
    /// the grain can be placed there (a gateway may learn of a new silo later than the manifest lists it).
    /// </summary>
    public async Task RefreshAsync(SiloEntry entry)
    {
        for (var delay = TimeSpan.FromMilliseconds(100); !entry.IsLost && !_stop.IsCancellationRequested; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond * 2)))
        {
            try
            {
                var report = await entry.Grain.GetReportAsync().WaitAsync(entry.Lost).ConfigureAwait(false);
                entry.Report = report;
                lock (_gate)
                {
                    entry.Capacity = Math.Max(1, report.Capacity);
                    Signal(); // a silo that can take jobs, or more room than before
                }

                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                LogReportFailed(_logger, exception, entry.Name);
                if (entry.Capacity > 0)
                {
                    return; // known already: a status refresh that failed changes nothing
                }
            }

            // Not reachable yet (just joined, or its pool is still starting): asked again shortly, until it answers or leaves.
            try
            {
                await Task.Delay(delay, _time, entry.Lost).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>How many calls a silo holds per slot of its pool: one running, one waiting, so its workers never idle between answers.</summary>
    private const int CallsPerSlot = 2;

    /// <summary>
    /// Takes a place for the next call on the silo with the most free slots (taking turns among equals, avoiding
    /// <paramref name="avoid"/> and silos a call could not reach while others can take it). When every silo is full the
    /// call waits here, in the front end, so that a silo that joins, or frees a slot first, gets it: silos are never given
    /// more than they can start. Waits at most <paramref name="timeout"/> for a cluster without any silo.
    /// </summary>
    public async Task<SiloEntry> AcquireAsync(SiloEntry? avoid, TimeSpan timeout, string poolName, CancellationToken cancellationToken)
    {
        long? deadline = null;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (Pick(avoid) is { } silo)
                {
                    silo.Enter(1);
                    return silo;
                }

                changed = _changed.Task;
                if (_silos.Values.Any(s => s.Capacity > 0))
                {
                    deadline = null;
                }
                else
                {
                    deadline ??= _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
                }
            }

            if (deadline is { } end)
            {
                var left = TimeSpan.FromSeconds((end - _time.GetTimestamp()) / (double)_time.TimestampFrequency);
                if (left <= TimeSpan.Zero)
                {
                    throw new InvalidOperationException(
                        $"No silo of the cluster takes the jobs of cluster pool '{poolName}' (waited {timeout.TotalSeconds:0.#} s, SiloWaitTimeout): " +
                        $"the silos must call AddProcessPoolExecution() and register a process pool named '{_siloPool}' (ClusterProcessPoolOptions.SiloPool; empty for the default pool).");
                }

                try
                {
                    await changed.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
            else
            {
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Gives a call's place back and wakes the calls waiting for one.</summary>
    public void Release(SiloEntry silo)
    {
        lock (_gate)
        {
            silo.Leave(1);
            Signal();
        }
    }

    /// <summary>Under the lock: the silo with room for one more call, or none.</summary>
    private SiloEntry? Pick(SiloEntry? avoid)
    {
        var now = _time.GetTimestamp();
        SiloEntry? best = null, fallback = null;
        var bestFree = 0;
        var count = _silos.Count;
        var start = count == 0 ? 0 : (int)(++_turn % (uint)count);
        foreach (var silo in _silos.Values.Skip(start).Concat(_silos.Values.Take(start)))
        {
            var free = (CallsPerSlot * silo.Capacity) - silo.InFlight;
            if (silo.IsLost || silo.Capacity == 0 || free <= 0)
            {
                continue;
            }

            if (silo == avoid || silo.IsSuspect(now))
            {
                fallback ??= silo;
                continue;
            }

            if (free > bestFree)
            {
                best = silo;
                bestFree = free;
            }
        }

        return best ?? fallback;
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Marks a silo a call could not reach; it gets work again after a short while, or when no other silo can take it.</summary>
    public void Suspect(SiloEntry silo) => silo.Suspect(_time.GetTimestamp() + (2 * _time.TimestampFrequency));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(1, LogLevel.Information, "Silo {Silo} runs the process pool execution grain; it takes jobs now.")]
    private static partial void LogSiloJoined(ILogger logger, string silo);

    [LoggerMessage(2, LogLevel.Warning, "Silo {Silo} left the cluster with {InFlight} calls of this front end in flight; they are retried or failed.")]
    private static partial void LogSiloLeft(ILogger logger, string silo, int inFlight);

    [LoggerMessage(4, LogLevel.Warning, "Call {Call} was lost between this front end and silo {Silo} (the silo does not run it); it is retried or failed.")]
    private static partial void LogCallLost(ILogger logger, long call, string silo);

    [LoggerMessage(3, LogLevel.Debug, "Silo {Silo} did not answer a report or a check.")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, string silo);
}
