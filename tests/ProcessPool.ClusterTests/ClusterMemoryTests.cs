using ProcessPools.Orleans.FrontEnd;

namespace ProcessPools.ClusterTests;

/// <summary>
/// What many maps leave behind, measured on the test process's managed heap: alone, in a collection that runs after the
/// others and with nothing beside it, since any test running in parallel grows the same heap (it failed now and then
/// while the one-minute silo-loss tests ran beside it).
/// </summary>
[Collection(nameof(AloneGroup))]
public sealed class ClusterMemoryTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ten_thousand_short_maps_leave_nothing_behind_on_the_pool()
    {
        await using var fixture = new ClusterFixture();
        await fixture.InitializeAsync();
        var pool = (ClusterProcessPool)fixture.Pool;
        using var caller = new CancellationTokenSource();

        await RunMapsAsync(1_000); // warm: every cache and pool of the front end, the silos and Orleans is filled
        var before = Memory();
        await RunMapsAsync(10_000);
        Assert.Equal(0, pool.LiveMaps); // each map's token source (registered on the pool's closing) was disposed

        // The silos remember answered calls for a while (so a front end can tell a lost answer from a lost request): that
        // memory follows time, not the number of calls. Once it has turned over twice, what is left is what maps left behind.
        await Task.Delay((2 * ProcessPools.Orleans.Execution.ExecutionDrain.AnsweredMemory) + TimeSpan.FromSeconds(1), Token);
        await RunMapsAsync(10); // the silos forget on their next call
        var after = Memory();
        Assert.True(after - before < 512 * 1024, $"10,000 maps left {(after - before) / 1024} KiB behind");

        async Task RunMapsAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var squares = await fixture.Pool.Map(ClusterJobs.SquareAsync, [i % 100, 2], caller.Token);
                Assert.Equal((i % 100) * (i % 100), squares[0]);
            }
        }

        static long Memory()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return GC.GetTotalMemory(forceFullCollection: true);
        }
    }
}

/// <summary>Tests that measure the whole test process: they run alone.</summary>
[CollectionDefinition(nameof(AloneGroup), DisableParallelization = true)]
public sealed class AloneGroup;
