namespace ProcessPools.Supervision;

/// <summary>
/// Where a pool is in its life: created, running, closing (draining its jobs), closed. Shared by the parts
/// of one pool, which each act on the state at the moment they look.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source has no timer; late waiters may still observe it after the pool is gone.")]
internal sealed class PoolLifecycle
{
    private const int Created = 0;
    private const int Running = 1;
    private const int Closing = 2;
    private const int Closed = 3;

    private readonly CancellationTokenSource _terminated = new();
    private readonly CancellationTokenSource _closing = new();
    private int _state;

    public bool IsCreated => Volatile.Read(ref _state) == Created;

    public bool IsRunning => Volatile.Read(ref _state) == Running;

    /// <summary>Closing or closed: no new job is taken.</summary>
    public bool IsClosing => Volatile.Read(ref _state) >= Closing;

    public bool IsClosed => Volatile.Read(ref _state) == Closed;

    /// <summary>Signalled when the pool begins closing (or is terminated): producers of new jobs stop.</summary>
    public CancellationToken CloseRequested => _closing.Token;

    /// <summary>Signalled when the pool is terminated: every wait of the pool's own ends.</summary>
    public CancellationToken Terminated => _terminated.Token;

    /// <summary>Created to running; false when the pool was started before.</summary>
    public bool TryStart() => Interlocked.CompareExchange(ref _state, Running, Created) == Created;

    /// <summary>Running to closing; false when the pool was not running (never started, or already closing).</summary>
    public bool TryBeginClosing()
    {
        if (Interlocked.CompareExchange(ref _state, Closing, Running) != Running)
        {
            return false;
        }

        _closing.Cancel();
        return true;
    }

    /// <summary>Closed for good; cancels <see cref="Terminated"/>.</summary>
    public Task TerminateAsync()
    {
        Volatile.Write(ref _state, Closed);
        _closing.Cancel();
        return _terminated.CancelAsync();
    }
}
