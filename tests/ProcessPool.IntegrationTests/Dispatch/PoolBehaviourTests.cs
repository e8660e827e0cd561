using System.Diagnostics;

namespace ProcessPools.IntegrationTests;

/// <summary>Tests that need a pool of their own shape.</summary>
public sealed class PoolBehaviourTests
{
    // A guard against a hang, not a timing assertion: a correct pool finishes these in well under a second.

    [Fact]
    public async Task Processes_times_child_concurrency_jobs_run_at_the_same_time()
    {
        const int processes = 2, childConcurrency = 3, parties = processes * childConcurrency;
        var directory = Directory.CreateTempSubdirectory("processpool-barrier-").FullName;
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (processes, childConcurrency));
        using var guard = new CancellationTokenSource(TestPools.HangGuard);

        // Each job returns only once all 'parties' jobs have arrived: this completes only if they all run at once.
        var pids = await Task.WhenAll(Enumerable.Range(0, parties).Select(_ => pool.ApplyAsync(Jobs.RendezvousAsync, directory, parties, guard.Token)));

        Assert.Equal(parties, Directory.GetFiles(directory).Length);
        Assert.Equal(processes, pids.Distinct().Count());
        Assert.All(pids.GroupBy(p => p), g => Assert.Equal(childConcurrency, g.Count()));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task MaxTasksPerChild_recycles_workers_and_no_worker_exceeds_it()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency, o.MaxTasksPerChild) = (2, 2, 3));

        var pids = await pool.Map(Jobs.GetProcessIdOfItemAsync, Enumerable.Range(0, 20));

        var perProcess = pids.GroupBy(p => p).Select(g => g.Count()).ToArray();
        Assert.All(perProcess, count => Assert.InRange(count, 1, 3));
        Assert.True(perProcess.Length >= 7, $"20 jobs at 3 per child need at least 7 children; saw {perProcess.Length}.");
        Assert.DoesNotContain(Environment.ProcessId, pids);
    }

    [Fact]
    public async Task Round_robin_spreads_jobs_evenly_over_queues()
    {
        // One worker per queue, so each process id names a queue.
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.QueueCount, o.ChildConcurrency) = (2, 2, 1));

        var pids = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => pool.ApplyAsync(Jobs.GetProcessIdOfItemAsync, i)));

        var perQueue = pids.GroupBy(p => p).Select(g => g.Count()).ToArray();
        Assert.Equal([5, 5], perQueue);
    }

    [Fact]
    public async Task A_custom_scheduler_decides_the_queue_of_every_job()
    {
        await using var pool = await ProcessPool.StartAsync(o =>
        {
            (o.Processes, o.QueueCount) = (2, 2);
            o.SchedulerFactory = () => new AlwaysQueue(1);
        });

        var pids = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => pool.ApplyAsync(Jobs.GetProcessIdOfItemAsync, i)));

        Assert.Single(pids.Distinct());
    }

    [Fact]
    public async Task Cancelling_a_running_job_reaches_the_child_and_frees_its_slot()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (1, 1));
        using var cancel = new CancellationTokenSource();

        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], cancel.Token);
        var next = pool.ApplyAsync(Jobs.SquareAsync, 6);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        // The only slot frees only when the child reports the job ended: the token reached it.
        Assert.Equal(36, await next.WaitAsync(TestPools.HangGuard));
    }

    [Fact]
    public async Task Cancelling_a_queued_job_removes_it_before_dispatch()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (1, 1));
        using var blockFirst = new CancellationTokenSource();
        using var cancelQueued = new CancellationTokenSource();
        var blocker = pool.ApplyAsync(Jobs.WaitForCancellationAsync, 1, blockFirst.Token);
        var queued = pool.ApplyAsync(Jobs.GetProcessIdOfItemAsync, 2, cancelQueued.Token);

        await cancelQueued.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await blockFirst.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocker);

        Assert.Equal(16, await pool.ApplyAsync(Jobs.SquareAsync, 4).WaitAsync(TestPools.HangGuard));
    }

    [Fact]
    public async Task Disposing_lets_running_jobs_finish_then_refuses_new_ones_and_leaves_no_process()
    {
        var pool = await ProcessPool.StartAsync(o => o.Processes = 2);
        var pids = TestPools.WorkerPids(pool);
        var results = Enumerable.Range(0, 50).Select(i => pool.ApplyAsync(Jobs.SlowSquareAsync, i)).ToArray();

        await pool.DisposeAsync();

        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * i), await Task.WhenAll(results));
        Assert.Throws<ObjectDisposedException>(() => { _ = pool.ApplyAsync(Jobs.SquareAsync, 1); });
        Assert.All(pids, TestPools.AssertExited);
    }

    [Fact]
    public async Task Terminate_kills_workers_and_fails_their_running_jobs_as_lost()
    {
        var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (1, 1));
        var pids = TestPools.WorkerPids(pool);
        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], CancellationToken.None);
        var queued = pool.ApplyAsync(Jobs.SquareAsync, 2);

        await pool.TerminateAsync();

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => running);
        Assert.Equal(pids[0], lost.ProcessId);
        Assert.Contains("terminated", lost.Message);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.All(pids, TestPools.AssertExited);
    }

    [Fact]
    public async Task A_killed_worker_fails_its_job_as_lost_and_is_replaced()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (1, 1));
        var victim = TestPools.WorkerPids(pool).Single();
        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], CancellationToken.None);

        Process.GetProcessById(victim).Kill();

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => running.WaitAsync(TestPools.HangGuard));
        Assert.Equal(victim, lost.ProcessId);
        TestPlatform.AssertKilled(lost);
        var pid = await pool.ApplyAsync(Jobs.GetProcessIdAsync).WaitAsync(TestPools.HangGuard);
        Assert.NotEqual(victim, pid);
    }

    [Fact]
    public async Task A_job_returning_an_awaited_value_task_with_a_token_is_bound_in_the_child()
    {
        await using var pool = await ProcessPool.StartAsync(o => o.Processes = 1);

        var value = await pool.ApplyAsync(static async Task<int> (int x, CancellationToken token) =>
        {
            await Task.Delay(1, token);
            return token.CanBeCanceled ? x : -1;
        }, 8);

        Assert.Equal(8, value);
    }

    private sealed class AlwaysQueue(int queue) : IScheduler
    {
        public int SelectQueue(ISchedulerContext context) => queue;
    }

    /// <summary>
    /// Regression: after CloseAsync a running map went on taking items from its input, the close waited for the
    /// whole ShutdownTimeout, and the consumer got OperationCanceledException instead of ObjectDisposedException.
    /// </summary>
    [Trait("Category", "Chaos")]
    [Fact]
    public async Task Closing_the_pool_stops_a_running_map_from_taking_more_items_and_answers_what_it_took()
    {
        var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ShutdownTimeout) = (2, TimeSpan.FromMinutes(10)));
        var map = pool.Map(Jobs.SlowSquareAsync, Endless());
        var received = 0;
        var consumed = Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            await foreach (var square in map)
            {
                if (++received == 100)
                {
                    _ = pool.CloseAsync();
                }
            }
        });

        var exception = await consumed.WaitAsync(TestPools.HangGuard);
        await pool.CloseAsync().WaitAsync(TestPools.HangGuard); // long before the 10 minutes of ShutdownTimeout

        Assert.Contains("closed while the map was running", exception.Message);
        Assert.Equal(map.Progress.Total, received); // every item taken was answered, none cancelled
        Assert.Equal((0, 0), (map.Progress.Pending, map.Progress.Cancelled));
    }

    /// <summary>
    /// A job still running when a closing pool's ShutdownTimeout ends is killed with its worker, and told why: the
    /// timeout by name and value (it read "the pool was terminated", as if someone had called TerminateAsync).
    /// </summary>
    [Fact]
    public async Task A_job_that_outlasts_ShutdownTimeout_is_lost_with_that_reason()
    {
        var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ShutdownTimeout) = (1, TimeSpan.FromMilliseconds(300)));
        var running = pool.ApplyAsync(Jobs.WaitForCancellationAsync, 1); // queued as the call returns; the close lets it run and waits for it

        await pool.CloseAsync().WaitAsync(TestPools.HangGuard);

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => running.WaitAsync(TestPools.HangGuard));
        Assert.Equal("was killed: the pool was closing and its jobs outlasted ShutdownTimeout (00:00:00.3000000)", lost.Reason);
    }

    private static IEnumerable<int> Endless()
    {
        for (var i = 0; ; i++)
        {
            yield return i % 1000;
        }
    }
}
