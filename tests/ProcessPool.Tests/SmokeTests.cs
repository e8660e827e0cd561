namespace ProcessPools.Tests;

public sealed class SmokeTests(PoolFixture fixture) : IClassFixture<PoolFixture>
{
    [Fact]
    public async Task Apply_runs_in_another_process()
    {
        var pid = await fixture.Pool.ApplyAsync(Jobs.GetProcessIdAsync);
        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.Equal(49, await fixture.Pool.ApplyAsync(Jobs.SquareAsync, 7));
    }
}
