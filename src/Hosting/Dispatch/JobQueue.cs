using System.Threading.Channels;

namespace ProcessPools.Dispatch;

/// <summary>
/// One of the pool's queues. The workers bound to it compete for its jobs, so a free worker takes the
/// next job as soon as it has a free slot, without a dispatcher thread in between.
/// </summary>
internal sealed class JobQueue
{
    private readonly Channel<PendingJob> _jobs = Channel.CreateUnbounded<PendingJob>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false, AllowSynchronousContinuations = false });

    private int _queued;
    private int _inFlight;
    private int _workers;

    public int Queued => Volatile.Read(ref _queued);

    public int InFlight => Volatile.Read(ref _inFlight);

    public int Workers => Volatile.Read(ref _workers);

    public bool IsCompleted => _jobs.Reader.Completion.IsCompleted;

    public bool TryEnqueue(PendingJob job)
    {
        Interlocked.Increment(ref _queued);
        job.CountIn(this);
        if (_jobs.Writer.TryWrite(job))
        {
            return true;
        }

        Uncount(job);
        return false;
    }

    /// <summary>Waits for the next job; throws <see cref="ChannelClosedException"/> once the queue is completed and empty.</summary>
    public async ValueTask<PendingJob> DequeueAsync(CancellationToken cancellationToken)
    {
        var job = await _jobs.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        Uncount(job);
        return job;
    }

    public bool TryDequeue(out PendingJob job)
    {
        if (_jobs.Reader.TryRead(out job!))
        {
            Uncount(job);
            return true;
        }

        return false;
    }

    /// <summary>
    /// A job leaves the count when a worker takes it or when it is answered while queued (cancelled, timed
    /// out): a channel cannot drop an item from its middle, so a worker later skips the answered job.
    /// </summary>
    public void Uncount(PendingJob job)
    {
        if (job.TryLeaveQueueCount())
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    /// <summary>Takes no more jobs; the workers drain what is there.</summary>
    public void Complete() => _jobs.Writer.TryComplete();

    public void AddInFlight(int delta) => Interlocked.Add(ref _inFlight, delta);

    public void AddWorkers(int delta) => Interlocked.Add(ref _workers, delta);
}
