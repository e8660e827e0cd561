using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace ProcessPools.Benchmarks;

/// <summary>
/// The cost of the cluster hop: the same jobs through ProcessPool.Orleans on an Orleans cluster of two silos on this
/// machine (in this process, talking over loopback TCP, each silo with its own worker processes), next to a bare Orleans
/// grain call and the local pool, measured in the same run.
/// </summary>
internal sealed partial class Workloads
{
    private async Task ClusterAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<BenchSilo>();
        builder.AddClientBuilderConfigurator<BenchClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var pool = cluster.Client.ServiceProvider.GetRequiredService<IProcessPool>();
            await WaitForSilosAsync(pool, 2);

            // Round trip: a trivial job through the cluster, a bare grain call (client to a silo), the local pool, and a
            // silo's own pool called from here (the part of the cluster round trip that is the local pool's), timed in
            // alternating blocks so that all four see the machine in the same states.
            var echo = cluster.Client.GetGrain<IBenchEchoGrain>(0);
            var siloPool = cluster.GetSiloServiceProvider(cluster.Primary!.SiloAddress).GetRequiredService<IProcessPool>();
            double[][] trips;
            await using (var local = await BenchPools.StartAsync(o => o.Processes = 1))
            {
                trips = await InterleavedAsync(
                    i => pool.ApplyAsync(BenchJobs.TrivialAsync, i),
                    i => echo.EchoAsync(i),
                    i => local.ApplyAsync(BenchJobs.TrivialAsync, i),
                    i => siloPool.ApplyAsync(BenchJobs.TrivialAsync, i));
            }

            var (clusterTrip, grainTrip, localTrip, siloTrip) = (trips[0], trips[1], trips[2], trips[3]);

            // The baselines are rows of their own: the report's in-process and floor columns mean other things.
            var baseline = Percentile(grainTrip, 50) + Percentile(localTrip, 50);
            Add("cluster round trip (2 silos)", "p50", "us", Percentile(clusterTrip, 50), null, null, null, higherIsBetter: false);
            Add("cluster round trip (2 silos)", "p99", "us", Percentile(clusterTrip, 99), null, null, null, higherIsBetter: false);
            Add("bare Orleans grain call (client to silo)", "p50", "us", Percentile(grainTrip, 50), null, null, null, higherIsBetter: false);
            Add("local pool round trip (1 worker)", "p50", "us", Percentile(localTrip, 50), null, null, null, higherIsBetter: false);
            Add("a silo's pool, called in its process", "p50", "us", Percentile(siloTrip, 50), null, null, null, higherIsBetter: false);
            Add("cluster round trip (2 silos)", "p50 / (grain call p50 + local round trip p50)", "x", Percentile(clusterTrip, 50) / baseline, null, null, 1.5, higherIsBetter: false);

            // Map: the same items over the two silos (one worker process each) and on one local pool of two.
            var overCluster = await SteadyRateAsync(sizes.MapItems, () => pool.Map(BenchJobs.TrivialAsync, Enumerable.Range(0, sizes.MapItems)).ToListAsync());
            double onLocal;
            await using (var local = await BenchPools.StartAsync(o => o.Processes = 2))
            {
                onLocal = await SteadyRateAsync(sizes.MapItems, () => local.Map(BenchJobs.TrivialAsync, Enumerable.Range(0, sizes.MapItems)).ToListAsync());
            }

            Add($"Map of {sizes.MapItems:N0} over 2 silos (1 worker each)", "awaited", "items/s", overCluster, null, null, null, higherIsBetter: true);
            Add($"Map of {sizes.MapItems:N0} on a local pool (2 workers)", "awaited", "items/s", onLocal, null, null, null, higherIsBetter: true);
            Add($"Map of {sizes.MapItems:N0} over 2 silos (1 worker each)", "cluster / local pool", "x", overCluster / onLocal, null, null, 0.5, higherIsBetter: true);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private static async Task WaitForSilosAsync(IProcessPool pool, int count)
    {
        var clock = Stopwatch.StartNew();
        while ((await pool.GetStatusAsync()).Workers.Select(w => w.Node).Distinct().Count() < count)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"The cluster pool did not see {count} silos within a minute.");
            }

            await Task.Delay(100); // the client learns of silos from the cluster manifest; no event reaches the bench
        }
    }

    private sealed class BenchSilo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddProcessPoolExecution();
            siloBuilder.Services.AddProcessPool(o =>
            {
                o.Processes = 1;
                o.Serializer = new BenchSerializer();
            });
        }
    }

    private sealed class BenchClient : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.Services.AddClusterProcessPool(o => o.Serializer = new BenchSerializer());
            clientBuilder.Configure<global::Orleans.Configuration.TypeManagementOptions>(o => o.TypeMapRefreshInterval = TimeSpan.FromSeconds(1));
        }
    }
}

/// <summary>The bare grain call the cluster hop is measured against: one integer there and back.</summary>
public interface IBenchEchoGrain : IGrainWithIntegerKey
{
    Task<int> EchoAsync(int x);
}

/// <summary>Answers at once; stateless, so it runs on the silo the call reaches.</summary>
[global::Orleans.Concurrency.StatelessWorker]
public sealed class BenchEchoGrain : Grain, IBenchEchoGrain
{
    public Task<int> EchoAsync(int x) => Task.FromResult(x + 1);
}
