using Microsoft.Extensions.Logging;
using ProcessPools.Scheduling;
using ProcessPools.Supervision;
using ProcessPools.Telemetry;

namespace ProcessPools.Dispatch;

/// <summary>
/// How an accepted job reaches a queue: room in the bounded queues (<see cref="ProcessPoolOptions.MaxQueuedJobs"/>),
/// the queue the scheduler picks, a retry onto the queues when a job's worker died, and the answer for what
/// cannot be queued (a closed pool, a crash loop). Never throws at a job: every job it is given gets an answer.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore never allocates a wait handle; a map's producer may still use it after the pool is terminated.")]
internal sealed class JobAdmission : ISchedulerContext
{
    private readonly string _poolName;
    private readonly JobQueue[] _queues;
    private readonly IScheduler _scheduler;
    private readonly SemaphoreSlim? _queueRoom;
    private readonly Action<PendingJob> _releaseQueueRoom;
    private readonly PoolLifecycle _lifecycle;
    private readonly Func<Exception?> _crashLoop;
    private readonly ILogger _logger;

    /// <param name="poolName">The pool's name, for messages.</param>
    /// <param name="options">The pool's options: queues, scheduler, bound.</param>
    /// <param name="lifecycle">The pool's state.</param>
    /// <param name="crashLoop">Why no worker runs, while the pool is in a crash loop; new jobs fail with it.</param>
    /// <param name="logger">The pool's logger.</param>
    public JobAdmission(string poolName, ProcessPoolOptions options, PoolLifecycle lifecycle, Func<Exception?> crashLoop, ILogger logger)
    {
        _poolName = poolName;
        _lifecycle = lifecycle;
        _crashLoop = crashLoop;
        _logger = logger;
        _queues = [.. Enumerable.Range(0, options.QueueCount).Select(_ => new JobQueue())];
        _scheduler = options.SchedulerFactory?.Invoke() ?? options.Scheduler switch
        {
            SchedulerKind.LeastLoaded => new LeastLoadedScheduler(),
            _ => new RoundRobinScheduler(options.Processes, options.QueueCount),
        };
        _queueRoom = options.MaxQueuedJobs > 0 ? new SemaphoreSlim(options.MaxQueuedJobs, options.MaxQueuedJobs) : null;
        _releaseQueueRoom = _ => _queueRoom!.Release();
    }

    public int QueueCount => _queues.Length;

    /// <summary>The queue that worker slot <paramref name="slot"/> takes jobs from.</summary>
    public JobQueue QueueOf(int slot) => _queues[slot % _queues.Length];

    public int IndexOf(int slot) => slot % _queues.Length;

    public int GetWorkerCount(int queue) => _queues[queue].Workers;

    public int GetQueuedCount(int queue) => _queues[queue].Queued;

    public int GetInFlightCount(int queue) => _queues[queue].InFlight;

    /// <summary>Jobs waiting in the queues.</summary>
    public int QueuedJobs => _queues.Sum(q => q.Queued);

    /// <summary>Jobs running in workers.</summary>
    public int InFlightJobs => _queues.Sum(q => q.InFlight);

    public IReadOnlyList<int> QueueLengths => [.. _queues.Select(q => q.Queued)];

    /// <summary>
    /// Queues an accepted job, waiting for room when <see cref="ProcessPoolOptions.MaxQueuedJobs"/> is reached.
    /// Never throws: a job that cannot be queued is answered with the reason.
    /// </summary>
    public Task EnqueueAsync(PendingJob job, CancellationToken cancellationToken)
    {
        if (_queueRoom is null)
        {
            Place(job);
            return Task.CompletedTask;
        }

        if (_queueRoom.Wait(0, CancellationToken.None))
        {
            job.HoldQueueRoom(_releaseQueueRoom);
            Place(job);
            return Task.CompletedTask;
        }

        return WaitForRoomAsync(job, cancellationToken);
    }

    private async Task WaitForRoomAsync(PendingJob job, CancellationToken cancellationToken)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifecycle.Terminated);
        try
        {
            await _queueRoom!.WaitAsync(waiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller cancelled (the job is already answered through its token) or the pool was terminated.
            job.Fail(new OperationCanceledException($"The process pool '{_poolName}' was terminated before the job was queued."));
            return;
        }

        job.HoldQueueRoom(_releaseQueueRoom); // gives the room back at once if the job was answered meanwhile
        Place(job);
    }

    /// <summary>Places an accepted job on the queue the scheduler picks.</summary>
    private void Place(PendingJob job)
    {
        if (job.IsFinished)
        {
            return; // cancelled or timed out while it waited for room
        }

        if (_crashLoop() is { } crashLoop && !HasRetriesLeft(job))
        {
            job.Fail(crashLoop);
            return;
        }

        var index = _queues.Length == 1 ? 0 : _scheduler.SelectQueue(this);
        if ((uint)index >= (uint)_queues.Length)
        {
            job.Fail(new InvalidOperationException($"The scheduler of pool '{_poolName}' chose queue {index}; there are {_queues.Length}."));
            return;
        }

        if (!_queues[index].TryEnqueue(job))
        {
            job.Fail(new ObjectDisposedException(_poolName, $"The process pool '{_poolName}' is closed."));
        }
    }

    /// <summary>Puts back a job a dying worker took from its queue but never sent.</summary>
    public void Requeue(PendingJob job, JobQueue queue)
    {
        if (!queue.TryEnqueue(job))
        {
            job.Fail(new ObjectDisposedException(_poolName, $"The process pool '{_poolName}' closed before the job could run."));
        }
    }

    /// <summary>Queues again a job whose worker died, when it has retries left; false when it must fail.</summary>
    public bool TryRetry(PendingJob job)
    {
        if (job.Attempts > job.MaxRetries || _lifecycle.IsClosed || !job.ReturnToQueue())
        {
            return false;
        }

        job.Worker = null;
        job.Telemetry?.Ledger.OnRetried();
        Log.JobRetried(_logger, _poolName, job.Target.Name, job.Attempts, job.MaxRetries);
        Place(job); // it holds no room in the bounded queues any more, and must not wait for it: it was accepted
        return true;
    }

    /// <summary>While closing: completes each queue that has nothing queued and nothing running, so its workers leave.</summary>
    public void CompleteDrainedQueues()
    {
        if (!_lifecycle.IsClosing)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            if (queue.Queued == 0 && queue.InFlight == 0)
            {
                queue.Complete();
            }
        }
    }

    /// <summary>Takes no more jobs: the queues complete and what waits in them fails with <paramref name="exception"/>.</summary>
    public void CompleteAll(Exception exception)
    {
        foreach (var queue in _queues)
        {
            queue.Complete();
        }

        FailQueued(exception);
    }

    /// <summary>Answers every queued job with <paramref name="exception"/>, except those <paramref name="spare"/> keeps queued.</summary>
    public void FailQueued(Exception exception, Func<PendingJob, bool>? spare = null)
    {
        foreach (var queue in _queues)
        {
            var spared = new List<PendingJob>();
            while (queue.TryDequeue(out var job))
            {
                if (spare?.Invoke(job) == true)
                {
                    spared.Add(job);
                }
                else
                {
                    job.Fail(exception);
                }
            }

            foreach (var job in spared)
            {
                Requeue(job, queue);
            }
        }
    }

    /// <summary>
    /// In a crash loop: answers the queued jobs that have no retry left; a job with retries left keeps waiting
    /// (bounded by its timeout) while the pool keeps trying to start workers.
    /// </summary>
    public void FailQueuedWithoutRetries(Exception exception) => FailQueued(exception, HasRetriesLeft);

    /// <summary>Whether a job may still wait for a worker: its MaxRetries allows more than the attempts it had.</summary>
    private static bool HasRetriesLeft(PendingJob job) => job.MaxRetries > 0 && job.Attempts <= job.MaxRetries;
}
