using System.Text;

namespace ProcessPools.Supervision;

/// <summary>
/// Gathers the lines a worker prints in one burst (a stack trace, a crash report) into one record: the first
/// line of a burst starts a short wait, and what arrived until it lapses goes out together, lines joined by
/// newlines. A burst past <see cref="MaxLines"/> lines goes out at once, so a flood never waits or grows without bound.
/// </summary>
internal sealed class OutputBurst(TimeProvider time, TimeSpan wait, Action<string> emit)
{
    public const int MaxLines = 200;

    private readonly Lock _gate = new();
    private readonly StringBuilder _lines = new();
    private int _count;
    private ITimer? _timer;

    public void Add(string line)
    {
        string? full = null;
        lock (_gate)
        {
            if (_count > 0)
            {
                _lines.Append('\n');
            }

            _lines.Append(line);
            if (++_count >= MaxLines)
            {
                full = TakeLocked();
            }
            else
            {
                _timer ??= time.CreateTimer(static state => ((OutputBurst)state!).Flush(), this, wait, Timeout.InfiniteTimeSpan);
            }
        }

        if (full is not null)
        {
            emit(full);
        }
    }

    /// <summary>Emits what is gathered now (the output ended, or the wait lapsed).</summary>
    public void Flush()
    {
        string? burst;
        lock (_gate)
        {
            burst = _count == 0 ? null : TakeLocked();
        }

        if (burst is not null)
        {
            emit(burst);
        }
    }

    private string TakeLocked()
    {
        _timer?.Dispose();
        _timer = null;
        var burst = _lines.ToString();
        _lines.Clear();
        _count = 0;
        return burst;
    }
}
