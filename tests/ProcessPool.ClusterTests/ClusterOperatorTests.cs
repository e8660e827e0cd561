using ProcessPools.Operations;

namespace ProcessPools.ClusterTests;

/// <summary>
/// A cluster pool's <see cref="IProcessPoolOperator"/> on a real Orleans test cluster whose silos run real workers: it
/// shows each silo as a node with its workers, gathers failures from every silo, and its actions reach the silo that
/// runs the worker or the job.
/// </summary>
[Collection(nameof(ClusterGroup))]
public sealed class ClusterOperatorTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private IProcessPoolOperator Operator => fixture.Cluster.Client.ServiceProvider.GetRequiredKeyedService<IProcessPoolOperator>("");

    [Fact]
    public async Task Each_silo_shows_as_a_node_with_its_workers_failures_name_their_silo_and_actions_reach_it()
    {
        var op = Operator;
        Assert.Contains(fixture.Cluster.Client.ServiceProvider.GetServices<IProcessPoolOperator>(), o => ReferenceEquals(o, op));
        var inspection = await op.InspectAsync(Token);
        var silos = await fixture.SiloOfWorkersAsync();

        Assert.Equal(2, inspection.Nodes.Count);
        Assert.All(inspection.Nodes, n => Assert.Equal("Active", n.State));
        Assert.Equal(inspection.Nodes.Select(n => n.Name).Order(), silos.Values.Distinct().Order());
        Assert.Equal(inspection.Nodes.Sum(n => n.Pool!.Processes), inspection.Processes);
        Assert.All(inspection.Workers, w => Assert.Equal(silos[w.ProcessId!.Value], w.Node)); // each worker names its silo
        Assert.All(inspection.Workers.Where(w => w.State == WorkerState.Ready), w => Assert.True(w.MemoryBytes > 0));

        // A failure on a silo is gathered with the silo's name, the remote type and stack.
        var marker = $"operator-{Guid.NewGuid():N}";
        await Assert.ThrowsAsync<RemoteJobException>(() => fixture.Pool.ApplyAsync(ClusterJobs.ThrowAsync, marker));
        var failure = Assert.Single(await op.RecentFailuresAsync(Token), f => f.Message == marker);
        Assert.Equal("System.InvalidOperationException", failure.ExceptionType);
        Assert.Contains("ThrowAsync", failure.StackTrace);
        Assert.Equal(silos[failure.ProcessId!.Value], failure.Node);

        // A running job is seen on its worker and cancelled through its silo; the caller gets the cancellation.
        var file = Path.Combine(Path.GetTempPath(), $"cluster-operator-{Guid.NewGuid():N}");
        var reached = ClusterPoolTests.WaitForFileAsync(file); // the job writes it once the cancellation reached it
        var running = fixture.Pool.ApplyAsync(ClusterJobs.WaitForCancellationAsync, file);
        var (worker, job) = await FindRunningAsync(op, "WaitForCancellationAsync");
        Assert.Equal(OperatorAnswer.NotFound, await op.CancelJobAsync(job.JobId, node: null, Token)); // a cluster's job is named with its silo
        Assert.Equal(OperatorAnswer.Done, await op.CancelJobAsync(job.JobId, worker.Node, Token));
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Patience, Token));
        Assert.Contains(worker.Node!, cancelled.Message);
        Assert.Equal(worker.ProcessId, await reached.WaitAsync(Patience, Token)); // it reached the job in its worker
        File.Delete(file);

        // Its output, then a kill: a fresh worker takes the slot on that silo, knowing how its predecessor ended.
        Assert.NotNull(await op.WorkerOutputAsync(worker.WorkerId, worker.Node, Token));
        Assert.Null(await op.WorkerOutputAsync(worker.WorkerId, node: null, Token));
        Assert.Equal(OperatorAnswer.Done, await op.KillWorkerAsync(worker.WorkerId, worker.Node, Token));
        var after = await WaitForAsync(op, i => i.Workers.Any(w => w.Node == worker.Node && w.PredecessorExit?.Contains("killed by an operator", StringComparison.Ordinal) == true)
            && i.Workers.All(w => w.ProcessId != worker.ProcessId || w.State == WorkerState.Exited));
        Assert.Equal(2, after.Nodes.Count);
        Assert.Equal(14 * 14, await fixture.Pool.ApplyAsync(ClusterJobs.SquareAsync, 14));
    }

    [Fact]
    public async Task Draining_reaches_every_silo_and_calls_wait_until_resumed()
    {
        var op = Operator;
        Assert.Equal(OperatorAnswer.Done, await op.DrainAsync(Token));
        try
        {
            var drained = await op.InspectAsync(Token);
            Assert.True(drained.IsDraining);
            Assert.All(drained.Nodes, n => Assert.True(n.Pool!.IsDraining));
            var waiting = fixture.Pool.ApplyAsync(ClusterJobs.SquareAsync, 5);
            await WaitForAsync(op, i => i.QueueLengths.Sum() == 1); // it waits in a silo's queue
            Assert.False(waiting.IsCompleted);

            Assert.Equal(OperatorAnswer.Done, await op.ResumeDispatchAsync(Token));
            Assert.Equal(25, await waiting.WaitAsync(Patience, Token));
            Assert.False((await op.InspectAsync(Token)).IsDraining);
        }
        finally
        {
            await op.ResumeDispatchAsync(CancellationToken.None); // the fixture's cluster is shared with other tests
        }
    }

    private static async Task<(WorkerInspection Worker, RunningJob Job)> FindRunningAsync(IProcessPoolOperator op, string jobName)
    {
        var inspection = await WaitForAsync(op, i => i.Workers.Any(w => w.Running.Any(j => j.JobName.EndsWith(jobName, StringComparison.Ordinal))));
        var worker = inspection.Workers.First(w => w.Running.Any(j => j.JobName.EndsWith(jobName, StringComparison.Ordinal)));
        return (worker, worker.Running.First(j => j.JobName.EndsWith(jobName, StringComparison.Ordinal)));
    }

    /// <summary>Inspects until the pool satisfies <paramref name="condition"/>: the silos' state changes reach no event here, so every 100 ms.</summary>
    private static async Task<PoolInspection> WaitForAsync(IProcessPoolOperator op, Func<PoolInspection, bool> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(Patience);
        while (true)
        {
            var inspection = await op.InspectAsync(deadline.Token);
            if (condition(inspection))
            {
                return inspection;
            }

            await Task.Delay(100, deadline.Token);
        }
    }
}
