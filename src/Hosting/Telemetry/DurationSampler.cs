namespace ProcessPools.Telemetry;

/// <summary>
/// Keeps jobs' durations for an operator's latency charts, only while someone observes them: one volatile read per
/// answer when nobody does, and at most <see cref="Capacity"/> durations between two takes. Compiled into the Orleans
/// front end as well, for a cluster pool's durations.
/// </summary>
internal sealed class DurationSampler
{
    /// <summary>How many durations are kept between two takes.</summary>
    public const int Capacity = 4096;

    private readonly Lock _gate = new();
    private readonly double[] _durations = new double[Capacity];
    private int _count;
    private int _observers;

    /// <summary>Whether someone samples durations.</summary>
    public bool IsObserving => Volatile.Read(ref _observers) > 0;

    /// <summary>Starts an observation; durations are kept until the last one is disposed.</summary>
    public IDisposable Observe()
    {
        Interlocked.Increment(ref _observers);
        return new Observation(this);
    }

    /// <summary>Keeps one duration, while observed and until the buffer is full.</summary>
    public void Add(double seconds)
    {
        if (!IsObserving)
        {
            return;
        }

        lock (_gate)
        {
            if (_count < Capacity)
            {
                _durations[_count++] = seconds;
            }
        }
    }

    /// <summary>Takes the durations kept since the last take.</summary>
    public IReadOnlyList<TimeSpan> Take()
    {
        lock (_gate)
        {
            var taken = new TimeSpan[_count];
            for (var i = 0; i < taken.Length; i++)
            {
                taken[i] = TimeSpan.FromSeconds(_durations[i]);
            }

            _count = 0;
            return taken;
        }
    }

    private sealed class Observation(DurationSampler sampler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && Interlocked.Decrement(ref sampler._observers) == 0)
            {
                sampler.Take(); // nothing stays behind once nobody observes
            }
        }
    }
}
