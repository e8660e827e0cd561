using System.Collections.Concurrent;
using ProcessPools.Orleans.Contracts;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>One silo that runs the execution grain, as the front end sees it: its capacity and the jobs it sent there.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer; calls may still observe it after the silo left.")]
internal sealed class SiloEntry(SiloAddress address, IProcessPoolGrain grain)
{
    private readonly CancellationTokenSource _lost = new();
    private int _inFlight;
    private long _suspectSince;
    private int _draining;

    public SiloAddress Address { get; } = address;

    /// <summary>The silo's address as messages and tags show it.</summary>
    public string Name { get; } = address.ToString();

    public IProcessPoolGrain Grain { get; } = grain;

    /// <summary>Jobs its pool runs at once; 0 until its grain answered, and no job goes there until it did.</summary>
    public int Capacity { get; set; }

    /// <summary>The last report of its grain.</summary>
    public SiloPoolReport? Report { get; set; }

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Fires when the silo leaves the cluster: the calls it runs are answered at once, not when Orleans gives up on them.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Whether the silo said it drains (it is stopping gracefully): it gets no more calls.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>When a call to it last failed at the transport (a timestamp; 0 for never): for a while it gets work only when no other silo can take it.</summary>
    public long SuspectSince
    {
        get => Volatile.Read(ref _suspectSince);
        set => Volatile.Write(ref _suspectSince, value);
    }

    /// <summary>Calls (jobs and chunks) this front end has in flight on the silo.</summary>
    public void Enter(int calls) => Interlocked.Add(ref _inFlight, calls);

    public void Leave(int calls) => Interlocked.Add(ref _inFlight, -calls);

    public void MarkLost() => _lost.Cancel();

    /// <summary>Marks the silo draining; <see langword="true"/> the first time.</summary>
    public bool MarkDraining() => Interlocked.Exchange(ref _draining, 1) == 0;

    /// <summary>The calls this front end has in flight on the silo, by number.</summary>
    public ConcurrentDictionary<long, InFlightCall> Calls { get; } = new();
}

/// <summary>
/// A call in flight on a silo. <see cref="Orphaned"/> fires when the silo, asked twice, says it does not run it: its
/// request was lost on the way (<see cref="NeverArrived"/>: it never ran), or its answer was (it ran).
/// </summary>
internal sealed class InFlightCall(long id, long startedAt) : IDisposable
{
    private readonly CancellationTokenSource _orphaned = new();

    public long Id { get; } = id;

    public long StartedAt { get; } = startedAt;

    /// <summary>How many checks in a row found the silo not running it.</summary>
    public int Strikes { get; set; }

    /// <summary>Whether the silo said it never received the call (rather than that it answered it).</summary>
    public bool NeverArrived { get; private set; }

    /// <summary>The reply the silo sent again for a call whose answer was lost on the way; the call ends with it.</summary>
    public JobReply? Recovered { get; private set; }

    public CancellationToken Orphaned => _orphaned.Token;

    public bool IsOrphaned => _orphaned.IsCancellationRequested;

    public void MarkOrphaned(bool neverArrived)
    {
        NeverArrived = neverArrived;
        _orphaned.Cancel();
    }

    /// <summary>Ends the call with the reply its silo kept, whose first sending was lost on the way.</summary>
    public void Recover(JobReply reply)
    {
        Recovered = reply;
        _orphaned.Cancel();
    }

    public void Dispose() => _orphaned.Dispose();
}
