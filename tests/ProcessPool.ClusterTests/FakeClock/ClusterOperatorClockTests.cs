using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProcessPools.Operations;
using ProcessPools.Orleans;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.FrontEnd;

namespace ProcessPools.ClusterTests.FakeClock;

/// <summary>A cluster pool's operator under a fake clock: a silo that does not answer is shown as such, on the pool's clock, and the others still are.</summary>
public sealed class ClusterOperatorClockTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_silo_that_does_not_answer_within_the_answer_timeout_shows_as_unreachable_and_the_others_still_answer()
    {
        var cluster = new FakeCluster();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var pool = new ClusterProcessPool("fake", new ClusterProcessPoolOptions(), cluster, cluster.GrainOf, NullLoggerFactory.Instance, time, meterFactory: null);
        pool.Start();
        SiloAddress answering = FakeCluster.Silo(11111), silent = FakeCluster.Silo(11112);
        cluster.SetSilos(answering, silent);
        await FrontEndClockTests.WaitUntilAsync(() => pool.Directory.Silos.Count == 2);
        var never = new TaskCompletionSource<PoolInspection>();
        cluster.Grains[silent].OnInspect = () => never.Task;

        var inspecting = pool.Operator.InspectAsync(Token).AsTask();
        await Task.Delay(50, Token);
        Assert.False(inspecting.IsCompleted, "the inspection answered before the silent silo's time was up");
        time.Advance(ClusterOperator.AnswerTimeout);
        var inspection = await inspecting.WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.Equal(2, inspection.Nodes.Count);
        var up = Assert.Single(inspection.Nodes, n => n.Name == answering.ToString());
        var down = Assert.Single(inspection.Nodes, n => n.Name == silent.ToString());
        Assert.Equal(("Active", 1), (up.State, up.Pool!.Processes));
        Assert.Equal("Unreachable", down.State);
        Assert.Null(down.Pool);
        Assert.Contains("did not answer", down.Error);

        // The sums are the answering silo's; its worker names it.
        Assert.Equal((1, 10L, 1L), (inspection.Processes, inspection.Succeeded, inspection.Failed));
        Assert.Equal([2], inspection.QueueLengths);
        Assert.Equal(4242, Assert.Single(inspection.Workers).ProcessId);

        // Actions name their silo; one that is not the pool's finds nothing; drain reaches every silo.
        Assert.Equal(OperatorAnswer.NotFound, await pool.Operator.KillWorkerAsync(1, node: null, Token));
        Assert.Equal(OperatorAnswer.NotFound, await pool.Operator.KillWorkerAsync(1, node: "S10.9.9.9:1:1", Token));
        Assert.Equal(OperatorAnswer.Done, await pool.Operator.KillWorkerAsync(1, answering.ToString(), Token));
        Assert.Equal([(OperatorAction.Kill, 1L)], cluster.Grains[answering].Actions);
        Assert.Equal(OperatorAnswer.Done, await pool.Operator.DrainAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Token));
        Assert.Equal([(OperatorAction.Drain, 0L)], cluster.Grains[silent].Actions);
    }
}
