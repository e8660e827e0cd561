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
        using var release = new CancellationTokenSource();
        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], release.Token);
        await Assert.ThrowsAsync<RemoteJobException>(() => pool.ApplyAsync(Jobs.ThrowInvalidOperationAsync, "the disk is full").WaitAsync(TestPools.HangGuard));

        var seen = op.Inspect();
        var worker = Assert.Single(seen.Workers);
        var job = Assert.Single(worker.Running);
        Assert.EndsWith("WaitForCancellationAsync", job.JobName, StringComparison.Ordinal);
        Assert.Equal(1, job.Attempt);
        Assert.Equal(98, worker.JobsUntilRecycle); // two of its 100 taken
        Assert.NotNull(worker.LastHeardFrom);
        Assert.Null(worker.PredecessorExit);
        Assert.Equal((1L, 0L), (seen.Failed, seen.Succeeded));
        var failure = Assert.Single(op.RecentFailures());
        Assert.Equal(("failed", "System.InvalidOperationException", "the disk is full"), (failure.Outcome, failure.ExceptionType, failure.Message));
        Assert.Contains("ThrowInvalidOperationAsync", failure.StackTrace);
        Assert.Equal(worker.ProcessId, failure.ProcessId);
        Assert.NotNull(op.WorkerOutput(worker.WorkerId));
        Assert.Null(op.WorkerOutput(999));

        // Drain: a new call waits, counted in its queue; resume lets it through.
        Assert.Equal(OperatorAnswer.Done, op.Drain());
        var waiting = pool.ApplyAsync(Jobs.SquareAsync, 7);
        await TestPools.WaitUntilAsync(() => op.Inspect().QueueLengths[0] == 1);
        Assert.True(op.Inspect().IsDraining);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(OperatorAnswer.Done, op.ResumeDispatch());
        Assert.Equal(49, await waiting.WaitAsync(TestPools.HangGuard));

        // Cancel reaches the running job; unknown ids are NotFound; recycle hands the slot to a fresh worker.
        Assert.Equal(OperatorAnswer.NotFound, op.CancelJob(424242));
        Assert.Equal(OperatorAnswer.Done, op.CancelJob(job.JobId));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(TestPools.HangGuard));
        Assert.Equal(OperatorAnswer.NotFound, op.RecycleWorker(999));
        Assert.Equal(OperatorAnswer.Done, op.RecycleWorker(worker.WorkerId));
        await TestPools.WaitUntilAsync(() => op.Inspect().Workers is [{ State: WorkerState.Ready } fresh] && fresh.WorkerId != worker.WorkerId);
        Assert.Equal($"worker {worker.WorkerId} (pid {worker.ProcessId}) was recycled", op.Inspect().Workers[0].PredecessorExit);
        Assert.Equal(16, await pool.ApplyAsync(Jobs.SquareAsync, 4).WaitAsync(TestPools.HangGuard));
    }

    [Fact]
    public async Task A_killed_workers_jobs_are_answered_as_lost_and_a_closing_pool_takes_no_action()
    {
        var pool = await ProcessPool.StartAsync(o => o.Processes = 1);
        var op = ((Dispatch.PoolEngine)pool).Operator;
        var running = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], CancellationToken.None);
        var worker = Assert.Single(op.Inspect().Workers);

        Assert.Equal(OperatorAnswer.Done, op.KillWorker(worker.WorkerId));

        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => running.WaitAsync(TestPools.HangGuard));
        Assert.Contains("killed by an operator", lost.Reason);
        await TestPools.WaitUntilAsync(() => op.Inspect().Workers is [{ State: WorkerState.Ready } fresh] && fresh.ProcessId != worker.ProcessId);
        Assert.Contains("killed by an operator", op.Inspect().Workers[0].PredecessorExit);
        Assert.Equal("worker_lost", Assert.Single(op.RecentFailures()).Outcome);

        Assert.Equal(OperatorAnswer.Done, op.Drain()); // a drained pool still finishes its queued jobs when it closes
        var queued = pool.ApplyAsync(Jobs.SquareAsync, 3);
        await pool.DisposeAsync();
        Assert.Equal(9, await queued.WaitAsync(TestPools.HangGuard));
        Assert.Equal(OperatorAnswer.Closing, op.Drain());
        Assert.Equal(OperatorAnswer.Closing, op.KillWorker(1));
        Assert.Equal(OperatorAnswer.Closing, op.CancelJob(1));
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
