using Microsoft.Extensions.Logging;
using Orleans.Metadata;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.Telemetry;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>
/// The silos that run the execution grain, from Orleans' cluster manifest (a silo is listed once it runs the grain and
/// leaves the list when membership declares it dead), and where the next job goes: the silo with the most free slots.
/// </summary>
internal sealed class SiloDirectory : IAsyncDisposable
{
    /// <summary>How often calls in flight for longer than this are checked with their silo.</summary>
    internal static readonly TimeSpan CallCheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>How long a silo a call could not reach gets work only when no other silo can take it.</summary>
    internal static readonly TimeSpan SuspectFor = TimeSpan.FromSeconds(2);

    /// <summary>How many calls a silo holds per slot of its pool: one running, one waiting, so its workers never idle between answers.</summary>
    private const int CallsPerSlot = 2;

    private static readonly GrainType ExecutionGrain = GrainType.Create(IProcessPoolGrain.GrainTypeName);

    private readonly IClusterManifestProvider _manifests;
    private readonly Func<SiloAddress, IProcessPoolGrain> _grainOf;
    private readonly string _siloPool;
    private readonly string _pool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Dictionary<SiloAddress, SiloEntry> _silos = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _watching = Task.CompletedTask;
    private uint _turn;

    /// <param name="manifests">The cluster manifest, which lists the silos that run the execution grain.</param>
    /// <param name="grainOf">The reference of a silo's execution grain for the pool on the silos.</param>
    /// <param name="siloPool">The name of the pool on the silos.</param>
    /// <param name="pool">The cluster pool's name, as messages show it.</param>
    /// <param name="time">The clock of every wait and check.</param>
    /// <param name="logger">The cluster pool's logger.</param>
    public SiloDirectory(IClusterManifestProvider manifests, Func<SiloAddress, IProcessPoolGrain> grainOf, string siloPool, string pool, TimeProvider time, ILogger logger)
    {
        _manifests = manifests;
        _grainOf = grainOf;
        _siloPool = siloPool;
        _pool = pool;
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

    public void Start()
    {
        Apply(_manifests.Current);
        _watching = Task.WhenAll(Task.Run(WatchAsync), Task.Run(CheckCallsAsync));
    }

    /// <summary>
    /// Every <see cref="CallCheckInterval"/>, asks each silo about the calls this front end has had in flight there for
    /// longer than that: a call the silo does not run in two checks in a row was lost on the way, and is answered as lost
    /// (sent again, or failed) instead of waiting for an answer that cannot come. Nothing is asked while calls are short.
    /// </summary>
    private async Task CheckCallsAsync()
    {
        using var timer = new PeriodicTimer(CallCheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                await CheckCallsOnceAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round of <see cref="CheckCallsAsync"/>.</summary>
    internal async Task CheckCallsOnceAsync()
    {
        foreach (var silo in Silos)
        {
            var due = silo.Calls.Values.Where(c => _time.GetElapsedTime(c.StartedAt) > CallCheckInterval && !c.IsOrphaned).ToArray();
            if (due.Length == 0 || silo.IsLost)
            {
                continue;
            }

            try
            {
                var check = await silo.Grain.CheckCallsAsync(FrontEnd, [.. due.Select(c => c.Id)]).WaitAsync(CallCheckInterval, _time, _stop.Token).ConfigureAwait(false);
                HashSet<long> unknown = [.. check.Unknown], answered = [.. check.Answered.Select(a => a.Id)];
                var replies = check.Answered.Where(a => a.Reply is not null).ToDictionary(a => a.Id, a => a.Reply!);
                foreach (var call in due)
                {
                    if (replies.TryGetValue(call.Id, out var reply))
                    {
                        // Answered, and the answer lost on the way back: the silo sent it again, so the job needs no second run.
                        Log.AnswerTakenAgain(_logger, _pool, call.Id, silo.Name);
                        call.Recover(reply);
                        continue;
                    }

                    call.Strikes = unknown.Contains(call.Id) || answered.Contains(call.Id) ? call.Strikes + 1 : 0;
                    if (call.Strikes >= 2)
                    {
                        var neverArrived = unknown.Contains(call.Id);
                        Log.CallLost(_logger, _pool, call.Id, silo.Name, neverArrived ? "the silo never received it" : "its answer was lost after it ran");
                        call.MarkOrphaned(neverArrived);
                    }
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !_stop.IsCancellationRequested)
            {
                // The silo did not answer: membership decides whether it is gone; its calls wait for that.
                Log.SiloNotAnswering(_logger, exception, _pool, silo.Name);
            }
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
                    entry = new SiloEntry(address, _grainOf(address));
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
            Log.SiloLeft(_logger, entry.Name, entry.InFlight, _pool);
            entry.MarkLost();
        }

        foreach (var entry in joined)
        {
            Log.SiloJoined(_logger, _pool, entry.Name);
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
                if (report.IsDraining)
                {
                    MarkDraining(entry);
                }

                lock (_gate)
                {
                    entry.Capacity = Math.Max(1, report.Capacity);
                    Signal(); // a silo that can take jobs, or more room than before
                }

                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Log.SiloNotAnswering(_logger, exception, _pool, entry.Name);
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

    /// <summary>
    /// Takes a place for the next call on the silo with the most free slots (taking turns among equals, avoiding
    /// <paramref name="avoid"/> and silos a call could not reach while others can take it; never a silo that drains). When
    /// every silo is full the call waits here, in the front end, so that a silo that joins, or frees a slot first, gets it:
    /// silos are never given more than they can start. Waits at most <paramref name="timeout"/> while no silo can take jobs.
    /// </summary>
    public async Task<SiloEntry> AcquireAsync(SiloEntry? avoid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long? waitingSince = null;
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
                if (_silos.Values.Any(s => s.Capacity > 0 && !s.IsDraining))
                {
                    waitingSince = null; // full, not empty: wait for room as long as it takes
                }
                else
                {
                    waitingSince ??= _time.GetTimestamp();
                }
            }

            if (waitingSince is { } since)
            {
                var left = timeout - _time.GetElapsedTime(since);
                if (left <= TimeSpan.Zero)
                {
                    throw new InvalidOperationException(
                        $"No silo of the cluster takes the jobs of cluster pool '{_pool}' (waited {timeout.TotalSeconds:0.#} s, SiloWaitTimeout): " +
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
        SiloEntry? best = null, fallback = null;
        var bestFree = 0;
        var count = _silos.Count;
        var start = count == 0 ? 0 : (int)(++_turn % (uint)count);
        foreach (var silo in _silos.Values.Skip(start).Concat(_silos.Values.Take(start)))
        {
            var free = (CallsPerSlot * silo.Capacity) - silo.InFlight;
            if (silo.IsLost || silo.IsDraining || silo.Capacity == 0 || free <= 0)
            {
                continue;
            }

            if (silo == avoid || (silo.SuspectSince != 0 && _time.GetElapsedTime(silo.SuspectSince) < SuspectFor))
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

    /// <summary>Marks a silo a call could not reach; it gets work again after <see cref="SuspectFor"/>, or when no other silo can take it.</summary>
    public void Suspect(SiloEntry silo) => silo.SuspectSince = _time.GetTimestamp();

    /// <summary>A silo said it drains: it gets no more calls, and the calls waiting for room look elsewhere.</summary>
    public void MarkDraining(SiloEntry silo)
    {
        if (silo.MarkDraining())
        {
            Log.SiloDraining(_logger, _pool, silo.Name);
            lock (_gate)
            {
                Signal();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        _stop.Dispose();
    }
}
