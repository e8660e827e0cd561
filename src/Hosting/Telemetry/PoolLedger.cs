using ProcessPools.Operations;

namespace ProcessPools.Telemetry;

/// <summary>The last <c>capacity</c> items added, thread-safe; adding is a lock and an array store.</summary>
internal sealed class Ring<T>(int capacity)
{
    private readonly T[] _items = new T[capacity];
    private readonly Lock _gate = new();
    private long _added;

    public int Capacity => _items.Length;

    public void Add(T item)
    {
        lock (_gate)
        {
            _items[_added % _items.Length] = item;
            _added++;
        }
    }

    /// <summary>The items kept, newest first.</summary>
    public IReadOnlyList<T> NewestFirst()
    {
        lock (_gate)
        {
            var count = (int)Math.Min(_added, _items.Length);
            var result = new T[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = _items[(_added - 1 - i) % _items.Length];
            }

            return result;
        }
    }
}

/// <summary>A pool's counts of answered jobs and its last failures, kept for operators (counts: one atomic add per answer).</summary>
internal sealed class PoolLedger(TimeProvider time)
{
    /// <summary>How many failures are kept.</summary>
    public const int FailureCapacity = 200;

    private long _succeeded;
    private long _failed;
    private long _cancelled;
    private long _retried;

    public Ring<JobFailureRecord> Failures { get; } = new(FailureCapacity);

    /// <summary>Jobs' durations, sampled only while an operator observes them.</summary>
    public DurationSampler Durations { get; } = new();

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    public long Cancelled => Interlocked.Read(ref _cancelled);

    public long Retried => Interlocked.Read(ref _retried);

    public void Count(int succeeded, int failed, int cancelled)
    {
        if (succeeded != 0)
        {
            Interlocked.Add(ref _succeeded, succeeded);
        }

        if (failed != 0)
        {
            Interlocked.Add(ref _failed, failed);
        }

        if (cancelled != 0)
        {
            Interlocked.Add(ref _cancelled, cancelled);
        }
    }

    public void OnRetried() => Interlocked.Increment(ref _retried);

    /// <summary>Records a failed job (not a cancelled one).</summary>
    public void OnFailed(long jobId, string jobName, int attempt, string outcome, Exception exception, int? processId, IReadOnlyList<string> standardErrorTail)
    {
        var remote = exception as RemoteJobException;
        var lost = exception as WorkerLostException;
        Failures.Add(new JobFailureRecord
        {
            At = time.GetUtcNow(),
            JobId = jobId,
            JobName = jobName,
            Outcome = outcome,
            ExceptionType = remote?.RemoteType ?? exception.GetType().FullName ?? exception.GetType().Name,
            Message = remote?.RemoteMessage ?? exception.Message,
            StackTrace = remote?.RemoteStackTrace ?? exception.StackTrace,
            ProcessId = lost?.ProcessId ?? processId,
            StandardErrorTail = lost?.StandardErrorTail is { Count: > 0 } tail ? tail : standardErrorTail,
            Attempt = attempt,
        });
    }
}
