using Orleans.Configuration;
using Orleans.TestingHost;

namespace ProcessPools.ClusterTests;

/// <summary>
/// A test cluster of two silos in this process, each with its own pool of two real worker processes, and a client with
/// two cluster pools: the default (two retries on silo loss) and "no-retry" (none).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly bool _drains;

    /// <summary>A cluster whose silos end their jobs at once when they stop (xunit's collection fixture).</summary>
    public ClusterFixture()
    {
    }

    /// <param name="drains">Whether the silos' pools wait for their jobs when a silo stops (30 s), so that a graceful stop drains.</param>
    internal ClusterFixture(bool drains) => _drains = drains;

    public TestCluster Cluster { get; private set; } = null!;

    public IProcessPool Pool => Cluster.Client.ServiceProvider.GetRequiredService<IProcessPool>();

    public IProcessPool NoRetry => Cluster.Client.ServiceProvider.GetRequiredKeyedService<IProcessPool>("no-retry");

    public async ValueTask InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        if (_drains)
        {
            builder.AddSiloBuilderConfigurator<DrainingSiloConfigurator>();
        }
        else
        {
            builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        }

        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForClusterManifestToStabilizeAsync();
        await WaitForSilosAsync(2);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>Waits until the client's cluster pool knows <paramref name="count"/> silos (it learns of a silo from the cluster manifest, about a second after it joins).</summary>
    public async Task WaitForSilosAsync(int count)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var status = await Pool.GetStatusAsync(TestContext.Current.CancellationToken);
            if (status.Workers.Select(w => w.Node).Distinct().Count() >= count)
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken); // the manifest is the client's to refresh; no event reaches the test
        }

        Assert.Fail($"the cluster pool never saw {count} silos");
    }

    /// <summary>Which silo each worker pid belongs to, asked of every silo now.</summary>
    public async Task<Dictionary<int, string>> SiloOfWorkersAsync()
    {
        var status = await Pool.GetStatusAsync();
        return status.Workers.Where(w => w.ProcessId is not null).ToDictionary(w => w.ProcessId!.Value, w => w.Node!);
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => Configure(siloBuilder, TimeSpan.Zero);

        public static void Configure(ISiloBuilder siloBuilder, TimeSpan shutdownTimeout)
        {
            siloBuilder.AddProcessPoolExecution();
            siloBuilder.Configure<TypeManagementOptions>(o => o.TypeMapRefreshInterval = TimeSpan.FromSeconds(1));

            // A front end co-hosted in the silo: a named cluster pool beside the silo's own (default) local pool.
            siloBuilder.Services.AddClusterProcessPool("cluster", o => o.MaxRetries = 1);
            siloBuilder.Services.AddProcessPool(o =>
            {
                o.Processes = 2;
                o.ChildConcurrency = 4;
                o.ShutdownTimeout = shutdownTimeout; // zero: a silo that stops (or is killed) ends its jobs at once
            });
        }
    }

    private sealed class DrainingSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => SiloConfigurator.Configure(siloBuilder, TimeSpan.FromSeconds(30));
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.AddActivityPropagation();
            clientBuilder.Configure<TypeManagementOptions>(o => o.TypeMapRefreshInterval = TimeSpan.FromSeconds(1)); // learn of silos within a second (default: a minute)
            clientBuilder.Services.AddClusterProcessPool(o => o.MaxRetries = 2);
            clientBuilder.Services.AddClusterProcessPool("no-retry", o => o.MaxRetries = 0);
            clientBuilder.Services.AddClusterProcessPool("no-such-pool", o => (o.SiloPool, o.SiloWaitTimeout) = ("reports", TimeSpan.FromSeconds(2)));
        }
    }
}
