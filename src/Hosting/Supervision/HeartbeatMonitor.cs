namespace ProcessPools.Supervision;

/// <summary>
/// A worker's heartbeat as the parent keeps it: every interval, either the worker was silent for longer than
/// the timeout (a hung process, or a channel that a sibling's inherited handle keeps open after a crash) and
/// is declared dead, or it is pinged. Any frame from the worker counts as a sign of life.
/// </summary>
internal sealed class HeartbeatMonitor : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly Action _ping;
    private readonly Action<TimeSpan> _silent;
    private long _lastHeardFrom;
    private long _lastBeat;
    private ITimer? _timer;

    /// <param name="time">The clock.</param>
    /// <param name="interval">How often to check.</param>
    /// <param name="timeout">How long the worker may be silent.</param>
    /// <param name="ping">Sends a ping.</param>
    /// <param name="silent">Runs once, with how long the worker was silent, when the timeout lapsed.</param>
    public HeartbeatMonitor(TimeProvider time, TimeSpan interval, TimeSpan timeout, Action ping, Action<TimeSpan> silent)
    {
        _time = time;
        _interval = interval;
        _timeout = timeout;
        _ping = ping;
        _silent = silent;
        _lastHeardFrom = time.GetTimestamp();
        _lastBeat = _lastHeardFrom;
    }

    /// <summary>Records a sign of life (any frame).</summary>
    /// <summary>When the worker last sent a frame (a timestamp of the monitor's clock).</summary>
    public long LastHeardFrom => Volatile.Read(ref _lastHeardFrom);

    public void Heard() => Volatile.Write(ref _lastHeardFrom, _time.GetTimestamp());

    public void Start() => _timer = _time.CreateTimer(static state => ((HeartbeatMonitor)state!).Beat(), this, _interval, _interval);

    private void Beat()
    {
        // A beat far later than its interval means this process was not running (stopped with Ctrl+Z or SIGSTOP,
        // a suspended machine): the worker's silence over that time is ours, not its. Start its clock again.
        var now = _time.GetTimestamp();
        var sinceLastBeat = _time.GetElapsedTime(Interlocked.Exchange(ref _lastBeat, now), now);
        if (sinceLastBeat > 3 * _interval)
        {
            Volatile.Write(ref _lastHeardFrom, now);
            _ping();
            return;
        }

        var silent = _time.GetElapsedTime(Volatile.Read(ref _lastHeardFrom));
        if (silent > _timeout)
        {
            _timer?.Dispose();
            _silent(silent);
            return;
        }

        _ping();
    }

    public void Dispose() => _timer?.Dispose();
}
