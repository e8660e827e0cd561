namespace ProcessPools.IntegrationTests;

public sealed class ProgressTests
{

    [Fact]
    public async Task A_running_maps_progress_counts_are_exact()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (1, 16));
        using var cancel = new CancellationTokenSource();
        // A per-item timeout keeps each item in a job of its own: in a chunk, a held item would hold back the
        // quick ones after it, and how the map chunks depends on how fast the first answers come back.
        var map = pool.WithTimeout(TimeSpan.FromMinutes(10)).Map(ProgressJobs.QuickOrHeldAsync, Enumerable.Range(0, 10), cancel.Token);

        await using (var answers = map.AsCompleted().GetAsyncEnumerator())
        {
            for (var i = 0; i < 6; i++)
            {
                Assert.True(await answers.MoveNextAsync().AsTask().WaitAsync(TestPools.HangGuard)); // items 0-5 answer, 6-9 are held
            }

            await TestPools.WaitUntilAsync(() => map.Progress.Total is not null);
            Assert.Equal(new MapProgress { Succeeded = 6, Failed = 0, Cancelled = 0, Pending = 4, Total = 10 }, map.Progress);

            await cancel.CancelAsync();
            await TestPools.WaitUntilAsync(() => map.Progress.Done == 10);
        }

        Assert.Equal(new MapProgress { Succeeded = 6, Failed = 0, Cancelled = 4, Pending = 0, Total = 10 }, map.Progress);
    }

    [Fact]
    public async Task A_failed_item_counts_as_failed()
    {
        await using var pool = await ProcessPool.StartAsync(o => o.Processes = 1);
        var map = pool.Map(Jobs.ThrowInvalidOperationAsync, ["broken"]);

        await Assert.ThrowsAsync<RemoteJobException>(() => map.ToListAsync().WaitAsync(TestPools.HangGuard));

        Assert.Equal(new MapProgress { Succeeded = 0, Failed = 1, Cancelled = 0, Pending = 0, Total = 1 }, map.Progress);
    }

    [Fact]
    public async Task A_jobs_progress_reports_reach_the_callers_IProgress_in_order()
    {
        await using var pool = await ProcessPool.StartAsync(o => o.Processes = 1);
        var received = new RecordingProgress<StepDone>();

        var result = await pool.ApplyAsync(ProgressJobs.WorkInStepsAsync, 500, received).WaitAsync(TestPools.HangGuard);
        var withoutSink = await pool.ApplyAsync(ProgressJobs.WorkInStepsAsync, 3, (IProgress<StepDone>?)null!).WaitAsync(TestPools.HangGuard);

        Assert.Equal(500, result);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => new StepDone(i, 500)), received.Values); // every report, in order, before the answer
        Assert.Equal(3, withoutSink);
    }
}

public sealed record StepDone(int Done, int Of);

/// <summary>Records reports synchronously, as they are delivered.</summary>
public sealed class RecordingProgress<T> : IProgress<T>
{
    private readonly List<T> _values = [];

    public IReadOnlyList<T> Values
    {
        get
        {
            lock (_values)
            {
                return [.. _values];
            }
        }
    }

    public void Report(T value)
    {
        lock (_values)
        {
            _values.Add(value);
        }
    }
}

public static class ProgressJobs
{
    public static async Task<int> QuickOrHeldAsync(int item, CancellationToken cancellationToken)
    {
        if (item >= 6)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return item;
    }

    public static async Task<int> WorkInStepsAsync(int steps, IProgress<StepDone> progress)
    {
        for (var i = 1; i <= steps; i++)
        {
            progress.Report(new StepDone(i, steps));
            if (i % 100 == 0)
            {
                await Task.Yield();
            }
        }

        return steps;
    }
}
