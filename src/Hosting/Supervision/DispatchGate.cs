namespace ProcessPools.Supervision;

/// <summary>
/// Open unless an operator drained the pool. While closed, workers hand no queued job to their process: calls are
/// still accepted and wait in the queues, running jobs finish. Open, checking it is one volatile read.
/// </summary>
internal sealed class DispatchGate
{
    private TaskCompletionSource? _closed;

    public bool IsOpen => Volatile.Read(ref _closed) is null;

    /// <summary>Closes the gate; false when it was closed already.</summary>
    public bool Close() => Interlocked.CompareExchange(ref _closed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null) is null;

    /// <summary>Opens the gate and releases the workers waiting at it; false when it was open.</summary>
    public bool Open()
    {
        var closed = Interlocked.Exchange(ref _closed, null);
        closed?.TrySetResult();
        return closed is not null;
    }

    /// <summary>Completes when the gate is open (at once, when it is).</summary>
    public Task WaitOpenAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _closed) is { } closed ? closed.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
}
