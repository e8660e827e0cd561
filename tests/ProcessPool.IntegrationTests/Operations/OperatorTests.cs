using ProcessPools.Operations;

namespace ProcessPools.IntegrationTests;

/// <summary>IProcessPoolOperator on real pools with real workers: what an operator sees, and each action.</summary>
public sealed class OperatorTests
{
    [Fact]
    public async Task An_operator_sees_running_jobs_failures_and_output_and_drains_resumes_and_recycles()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.MaxTasksPerChild) = (1, 100));
        var op = ((Dispatch.PoolEngine)pool).Operator;
        var inspect = ((Dispatch.PoolEngine)pool).Operator.Inspect;
        using var release = new CancellationTokenSource();
        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], release.Token);
        await Assert.ThrowsAsync<RemoteJobException>(() => pool.ApplyAsync(Jobs.ThrowInvalidOperationAsync, "the disk is full").WaitAsync(TestPools.HangGuard));

        var seen = await op.InspectAsync(TestContext.Current.CancellationToken);
        var worker = Assert.Single(seen.Workers);
        var job = Assert.Single(worker.Running);
        Assert.EndsWith("WaitForCancellationAsync", job.JobName, StringComparison.Ordinal);
        Assert.Equal(1, job.Attempt);
        Assert.Equal(98, worker.JobsUntilRecycle); // two of its 100 taken
        Assert.NotNull(worker.LastHeardFrom);
        Assert.Null(worker.PredecessorExit);
        Assert.Null(worker.Node); // a local pool's workers run here
        Assert.Empty(seen.Nodes);
        Assert.True(worker.MemoryBytes > 1024 * 1024, $"a live worker's working set is read: {worker.MemoryBytes}");
        Assert.True(worker.ProcessorTime > TimeSpan.Zero, $"a live worker's processor time is read: {worker.ProcessorTime}");
        Assert.Equal((1L, 0L), (seen.Failed, seen.Succeeded));
        var failure = Assert.Single(await op.RecentFailuresAsync());
        Assert.Equal(("failed", "System.InvalidOperationException", "the disk is full"), (failure.Outcome, failure.ExceptionType, failure.Message));
        Assert.Contains("ThrowInvalidOperationAsync", failure.StackTrace);
        Assert.Equal(worker.ProcessId, failure.ProcessId);
        Assert.NotNull(await op.WorkerOutputAsync(worker.WorkerId));
        Assert.Null(await op.WorkerOutputAsync(999));
        Assert.Null(await op.WorkerOutputAsync(worker.WorkerId, node: "elsewhere")); // a local pool has no nodes
        Assert.Equal(OperatorAnswer.NotFound, await op.KillWorkerAsync(worker.WorkerId, node: "elsewhere"));

        // Drain: a new call waits, counted in its queue; resume lets it through.
        Assert.Equal(OperatorAnswer.Done, await op.DrainAsync());
        var waiting = pool.ApplyAsync(Jobs.SquareAsync, 7);
        await TestPools.WaitUntilAsync(() => inspect().QueueLengths[0] == 1);
        Assert.True(inspect().IsDraining);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(OperatorAnswer.Done, await op.ResumeDispatchAsync());
        Assert.Equal(49, await waiting.WaitAsync(TestPools.HangGuard));

        // Cancel reaches the running job; unknown ids are NotFound; recycle hands the slot to a fresh worker.
        Assert.Equal(OperatorAnswer.NotFound, await op.CancelJobAsync(424242));
        Assert.Equal(OperatorAnswer.Done, await op.CancelJobAsync(job.JobId));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TestPools.HangGuard));
        Assert.Equal(OperatorAnswer.NotFound, await op.RecycleWorkerAsync(999));
        Assert.Equal(OperatorAnswer.Done, await op.RecycleWorkerAsync(worker.WorkerId));
        await TestPools.WaitUntilAsync(() => inspect().Workers is [{ State: WorkerState.Ready } fresh] && fresh.WorkerId != worker.WorkerId);
        Assert.Equal($"worker {worker.WorkerId} (pid {worker.ProcessId}) was recycled", inspect().Workers[0].PredecessorExit);
        Assert.Equal(16, await pool.ApplyAsync(Jobs.SquareAsync, 4).WaitAsync(TestPools.HangGuard));
    }

    [Fact]
    public async Task A_killed_workers_jobs_are_answered_as_lost_and_a_closing_pool_takes_no_action()
    {
        var pool = await ProcessPool.StartAsync(o => o.Processes = 1);
        var op = ((Dispatch.PoolEngine)pool).Operator;
        var inspect = ((Dispatch.PoolEngine)pool).Operator.Inspect;
        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], CancellationToken.None);
        var worker = Assert.Single((await op.InspectAsync(TestContext.Current.CancellationToken)).Workers);

        Assert.Equal(OperatorAnswer.Done, await op.KillWorkerAsync(worker.WorkerId));

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => running.WaitAsync(TestPools.HangGuard));
        Assert.Contains("killed by an operator", lost.Reason);
        await TestPools.WaitUntilAsync(() => inspect().Workers is [{ State: WorkerState.Ready } fresh] && fresh.ProcessId != worker.ProcessId);
        Assert.Contains("killed by an operator", inspect().Workers[0].PredecessorExit);
        Assert.Equal("worker_lost", Assert.Single(await op.RecentFailuresAsync()).Outcome);

        Assert.Equal(OperatorAnswer.Done, await op.DrainAsync()); // a drained pool still finishes its queued jobs when it closes
        var queued = pool.ApplyAsync(Jobs.SquareAsync, 3);
        await pool.DisposeAsync();
        Assert.Equal(9, await queued.WaitAsync(TestPools.HangGuard));
        Assert.Equal(OperatorAnswer.Closing, await op.DrainAsync());
        Assert.Equal(OperatorAnswer.Closing, await op.KillWorkerAsync(1));
        Assert.Equal(OperatorAnswer.Closing, await op.CancelJobAsync(1));
    }

    [Fact]
    public async Task Every_pool_registers_its_operator_by_name_and_in_the_list_of_all()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddProcessPool(o => o.Processes = 1);
        services.AddProcessPool("images", o => o.Processes = 1);
        services.AddProcessPool("gone", o => o.Processes = 1);
        services.RemoveProcessPool("gone");
        await using var provider = services.BuildServiceProvider();

        Assert.Equal(["", "images"], provider.GetServices<IProcessPoolOperator>().Select(o => o.Name).Order());
        Assert.Equal("images", provider.GetRequiredKeyedService<IProcessPoolOperator>("images").Name);
        Assert.Same(provider.GetRequiredKeyedService<IProcessPoolOperator>(""), provider.GetServices<IProcessPoolOperator>().Single(o => o.Name.Length == 0));
        Assert.Null(provider.GetKeyedService<IProcessPoolOperator>("gone"));
    }
}
