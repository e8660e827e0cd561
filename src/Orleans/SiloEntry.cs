namespace ProcessPools.Orleans;

/// <summary>One silo that runs the execution grain, as the front end sees it: its capacity and the jobs it sent there.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer; calls may still observe it after the silo left.")]
internal sealed class SiloEntry
{
    private readonly CancellationTokenSource _lost = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, InFlightCall> _calls = new();
    private int _inFlight;
    private long _suspectUntil;

    public SiloEntry(SiloAddress address, IProcessPoolGrain grain)
    {
        Address = address;
        Name = address.ToString();
        Grain = grain;
    }

    public SiloAddress Address { get; }

    /// <summary>The silo's address as messages and tags show it.</summary>
    public string Name { get; }

    public IProcessPoolGrain Grain { get; }

    /// <summary>Jobs its pool runs at once; 0 until its grain answered, and no job goes there until it did.</summary>
    public int Capacity { get; set; }

    /// <summary>The last report of its grain.</summary>
    public SiloPoolReport? Report { get; set; }

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Fires when the silo leaves the cluster: the calls it runs are answered at once, not when Orleans gives up on them.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Whether a call to it failed at the transport lately; such a silo gets work only when no other can take it.</summary>
    public bool IsSuspect(long now) => now < Volatile.Read(ref _suspectUntil);

    public void Suspect(long until) => Volatile.Write(ref _suspectUntil, until);

    /// <summary>Calls (jobs and chunks) this front end has in flight on the silo.</summary>
    public void Enter(int calls) => Interlocked.Add(ref _inFlight, calls);

    public void Leave(int calls) => Interlocked.Add(ref _inFlight, -calls);

    public void MarkLost() => _lost.Cancel();

    /// <summary>The calls this front end has in flight on the silo, by number.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<long, InFlightCall> Calls => _calls;
}

/// <summary>
/// A call in flight on a silo. <see cref="Orphaned"/> fires when the silo, asked twice, says it is not running it: its
/// request or its answer was lost on the way (a gateway between them died while the silo itself lives on).
/// </summary>
internal sealed class InFlightCall(long id, long startedAt) : IDisposable
{
    private readonly CancellationTokenSource _orphaned = new();

    public long Id { get; } = id;

    public long StartedAt { get; } = startedAt;

    /// <summary>How many checks in a row found the silo not running it.</summary>
    public int Strikes { get; set; }

    public CancellationToken Orphaned => _orphaned.Token;

    public bool IsOrphaned => _orphaned.IsCancellationRequested;

    public void MarkOrphaned() => _orphaned.Cancel();

    public void Dispose() => _orphaned.Dispose();
}
