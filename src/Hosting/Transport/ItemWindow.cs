namespace ProcessPools.Transport;

/// <summary>
/// The room a map's producer has to pull items ahead of its consumer: taken in bulk without a lock, given back
/// in bulk; only the producer ever waits for it. (A <see cref="SemaphoreSlim"/> takes its lock once per item.)
/// </summary>
internal sealed class ItemWindow(int size)
{
    private int _room = size;
    private TaskCompletionSource? _waiter;

    /// <summary>Takes up to <paramref name="max"/> units of room; returns how many it took (0 when there is none).</summary>
    public int TryTake(int max)
    {
        var room = Volatile.Read(ref _room);
        while (room > 0)
        {
            var taken = Math.Min(room, max);
            var seen = Interlocked.CompareExchange(ref _room, room - taken, room);
            if (seen == room)
            {
                return taken;
            }

            room = seen;
        }

        return 0;
    }

    /// <summary>Takes one unit of room, waiting for the consumer to give some back when there is none.</summary>
    public async ValueTask TakeOneAsync(CancellationToken cancellationToken)
    {
        while (TryTake(1) == 0)
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _waiter, waiter); // a full fence: the room is read after the waiter is visible

            // Room given back between the failed take and the waiter's publication finds no waiter: look again.
            if (Volatile.Read(ref _room) > 0)
            {
                Interlocked.CompareExchange(ref _waiter, null, waiter);
                continue;
            }

            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Gives <paramref name="count"/> units back and wakes the producer if it waits.</summary>
    public void Release(int count)
    {
        if (count <= 0)
        {
            return;
        }

        Interlocked.Add(ref _room, count);
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }
}
