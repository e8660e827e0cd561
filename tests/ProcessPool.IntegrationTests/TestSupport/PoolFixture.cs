namespace ProcessPools.IntegrationTests;

/// <summary>One shared pool of 2 workers for the tests that only need a working pool.</summary>
public sealed class PoolFixture : IAsyncLifetime
{
    public IProcessPoolOwner Pool { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Pool = await ProcessPool.StartAsync(o => o.Processes = 2, workers => workers.AddJob<GreetingJob>());

    public async ValueTask DisposeAsync() => await Pool.DisposeAsync();
}
