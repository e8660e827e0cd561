namespace ProcessPools.Dispatch;

/// <summary>
/// The grace periods of a worker's cancelled jobs: a job cancelled in its worker (by its caller or a timeout)
/// that is still running when its period lapses gets its worker killed, since nothing else stops it.
/// </summary>
internal sealed class CancellationGrace(TimeProvider time, TimeSpan period) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, ITimer> _timers = [];

    /// <summary>Starts the period of a job; false when it runs already (the job was cancelled twice).</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="lapsed">Runs once if the period lapses before <see cref="Stop"/>.</param>
    public bool TryStart(long jobId, Action lapsed)
    {
        lock (_gate)
        {
            if (_timers.ContainsKey(jobId))
            {
                return false;
            }

            _timers[jobId] = time.CreateTimer(static state => ((Action)state!)(), lapsed, period, Timeout.InfiniteTimeSpan);
            return true;
        }
    }

    /// <summary>The job answered: its period ends.</summary>
    public void Stop(long jobId)
    {
        lock (_gate)
        {
            if (_timers.Remove(jobId, out var timer))
            {
                timer.Dispose();
            }
        }
    }

    /// <summary>Ends every period (the worker died).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var timer in _timers.Values)
            {
                timer.Dispose();
            }

            _timers.Clear();
        }
    }
}
