namespace ProcessPools.UnitTests.Jobs;

/// <summary>Using a pool and owning it are two types: what callers inject cannot end the pool.</summary>
public sealed class OwnershipTests
{
    [Fact]
    public void What_callers_inject_cannot_close_terminate_or_dispose_the_pool()
    {
        Assert.False(typeof(IAsyncDisposable).IsAssignableFrom(typeof(IProcessPool)));
        Assert.False(typeof(IDisposable).IsAssignableFrom(typeof(IProcessPool)));
        Assert.DoesNotContain(typeof(IProcessPool).GetMethods(), m => m.Name is "CloseAsync" or "TerminateAsync" or "DisposeAsync");

        // The owner can: what ProcessPool.StartAsync returns.
        Assert.True(typeof(IProcessPool).IsAssignableFrom(typeof(IProcessPoolOwner)));
        Assert.True(typeof(IAsyncDisposable).IsAssignableFrom(typeof(IProcessPoolOwner)));
        Assert.Equal(typeof(Task<IProcessPoolOwner>), typeof(ProcessPool).GetMethod(nameof(ProcessPool.StartAsync), [typeof(Action<ProcessPoolOptions>), typeof(CancellationToken)])!.ReturnType);
    }

    [Fact]
    public void A_view_with_job_options_is_a_pool_to_use_not_to_own()
    {
        var view = new PoolWithoutWorkers().WithTimeout(TimeSpan.FromSeconds(1));
        Assert.IsNotAssignableFrom<IAsyncDisposable>(view);
        Assert.Equal("none", view.Name);
    }

    private sealed class PoolWithoutWorkers : IProcessPool
    {
        public string Name => "none";

        public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken) => throw new NotSupportedException();

        public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default) => new(new ProcessPoolStatus { Name = Name });
    }
}
