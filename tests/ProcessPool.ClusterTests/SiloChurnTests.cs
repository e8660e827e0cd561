using ProcessPools.Orleans.FrontEnd;

namespace ProcessPools.ClusterTests;

/// <summary>Silos killed, started and stopped one after the other while maps run, as an operator rolls a cluster.</summary>
public sealed class SiloChurnTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Silos_killed_started_and_stopped_mid_map_lose_no_item_and_a_graceful_stop_fails_or_retries_no_job()
    {
        await using var fixture = new ClusterFixture(drains: true);
        await fixture.InitializeAsync();
        using var lost = SiloLossTests.CountSiloLosses(fixture);
        var items = Enumerable.Range(0, 400).ToArray();
        var gateway = fixture.Cluster.SecondarySilos[0]; // one of the two silos the client connects through

        for (var round = 1; round <= 3; round++)
        {
            // A silo killed mid-map: what it ran may have run, so it runs again elsewhere (the default pool has two retries).
            var killed = await fixture.Cluster.StartAdditionalSiloAsync();
            await fixture.WaitForSilosAsync(3);
            var map = fixture.Pool.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 100, ct), items, Token);
            await SiloLossTests.WaitUntilRunningAsync(fixture, killed);
            await fixture.Cluster.KillSiloAsync(killed);
            Assert.Equal(items, (await map).Select(ClusterJobs.ItemOf)); // every item once, right, in input order

            // A silo stopped gracefully mid-map, with no retry allowed: it drains, so no job fails and none is retried.
            var stopped = await fixture.Cluster.StartAdditionalSiloAsync();
            await fixture.WaitForSilosAsync(3);
            var lostBefore = lost.Value;
            var graceful = fixture.NoRetry.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 100, ct), items, Token);
            await SiloLossTests.WaitUntilRunningAsync(fixture, stopped);
            var ranOnStopped = (await fixture.SiloOfWorkersAsync()).Where(w => w.Value == stopped.SiloAddress.ToString()).Select(w => w.Key).ToHashSet();
            await fixture.Cluster.StopSiloAsync(stopped);
            var answered = await graceful;
            Assert.Equal(items, answered.Select(ClusterJobs.ItemOf));
            Assert.Equal(lostBefore, lost.Value); // no call counted as lost with its silo: nothing spent a retry
            Assert.Contains(answered, t => ranOnStopped.Contains(ClusterJobs.PidOf(t))); // the stopping silo finished what it ran
        }

        // Last, a gateway of the client stops gracefully mid-map: answers on their way through it are lost with it, and
        // taken again from the silos that sent them (they keep them a while), so this stop costs no retry either.
        var lostBeforeGateway = lost.Value;
        var throughGateway = fixture.NoRetry.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 100, ct), items, Token);
        await SiloLossTests.WaitUntilRunningAsync(fixture, gateway);
        await fixture.Cluster.StopSiloAsync(gateway);
        Assert.Equal(items, (await throughGateway).Select(ClusterJobs.ItemOf));
        Assert.Equal(lostBeforeGateway, lost.Value);
    }
}
