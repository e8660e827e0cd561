namespace ProcessPools.Channels;

/// <summary>
/// The worker's watch over its parent, for a parent that died without closing the channel (a process that
/// inherited the pipe keeps it open): its process is gone, or it stopped pinging for longer than the
/// heartbeat timeout. Checks four times per timeout, on the injected clock. Part of the channel, so it is
/// unit-tested with the rest of it.
/// </summary>
internal sealed class ParentWatchdog : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Func<bool> _parentIsAlive;
    private readonly int _parentProcessId;
    private readonly TaskCompletionSource<string> _abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastHeardFrom;
    private long _lastCheck;
    private TimeSpan _period;
    private TimeSpan _heartbeatTimeout = Timeout.InfiniteTimeSpan;
    private ITimer? _timer;

    /// <param name="time">The clock.</param>
    /// <param name="parentProcessId">The parent's pid, named in the reason; 0 when unknown (then only silence counts).</param>
    /// <param name="parentIsAlive">Whether the parent process still exists.</param>
    public ParentWatchdog(TimeProvider time, int parentProcessId, Func<bool> parentIsAlive)
    {
        _time = time;
        _parentProcessId = parentProcessId;
        _parentIsAlive = parentIsAlive;
        _lastHeardFrom = time.GetTimestamp();
    }

    /// <summary>Completes with the reason once the parent is considered gone.</summary>
    public Task<string> Abandoned => _abandoned.Task;

    /// <summary>Records that the parent spoke (any frame).</summary>
    public void Heard() => Volatile.Write(ref _lastHeardFrom, _time.GetTimestamp());

    /// <summary>Starts checking, now that the parent's heartbeat timeout is known.</summary>
    public void Start(TimeSpan heartbeatTimeout)
    {
        _heartbeatTimeout = heartbeatTimeout;
        _period = heartbeatTimeout / 4;
        _lastCheck = _time.GetTimestamp();
        _timer = _time.CreateTimer(static state => ((ParentWatchdog)state!).Check(), this, _period, _period);
    }

    private void Check()
    {
        if (_parentProcessId > 0 && !_parentIsAlive())
        {
            _abandoned.TrySetResult($"parent process {_parentProcessId} is gone");
            return;
        }

        // A check far later than its period means this process was not running: the machine slept (on Windows the
        // clock runs on through sleep), or the process was stopped. The parent's silence over that time is not its
        // own; start its clock again, as the parent's HeartbeatMonitor does for its workers.
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(Interlocked.Exchange(ref _lastCheck, now), now) > 3 * _period)
        {
            Volatile.Write(ref _lastHeardFrom, now);
            return;
        }

        var silent = _time.GetElapsedTime(Volatile.Read(ref _lastHeardFrom));
        if (silent > _heartbeatTimeout)
        {
            _abandoned.TrySetResult($"the parent was silent for {silent.TotalSeconds:0.#} s");
        }
    }

    public void Dispose() => _timer?.Dispose();
}
