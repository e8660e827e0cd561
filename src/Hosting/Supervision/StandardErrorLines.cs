namespace ProcessPools.Supervision;

/// <summary>The last lines a worker wrote to its standard error, kept for the message of a crash.</summary>
internal sealed class StandardErrorLines
{
    private const int Capacity = 20;
    private readonly Queue<string> _lines = new(Capacity);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the stream has ended.</summary>
    public Task Ended => _ended.Task;

    public void Add(string? line)
    {
        if (line is null)
        {
            _ended.TrySetResult();
            return;
        }

        lock (_lines)
        {
            if (_lines.Count == Capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (_lines)
        {
            return [.. _lines];
        }
    }
}
