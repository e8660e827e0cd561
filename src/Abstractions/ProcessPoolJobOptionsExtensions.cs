namespace ProcessPools;

/// <summary>Per-call settings: <c>await pool.WithTimeout(TimeSpan.FromSeconds(5)).ApplyAsync(Jobs.ParseAsync, path)</c>.</summary>
public static class ProcessPoolJobOptionsExtensions
{
    /// <summary>
    /// Gets a view of the same pool whose calls use these job options (settings left unset keep the
    /// pool's). The view shares the pool's workers and queues; disposing it does not close the pool.
    /// </summary>
    public static IProcessPool WithJobOptions(this IProcessPool pool, JobOptions options)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        return pool is ConfiguredProcessPool configured
            ? new ConfiguredProcessPool(configured.Inner, options.Or(configured.Options))
            : new ConfiguredProcessPool(pool, options);
    }

    /// <summary>Gets a view of the same pool whose jobs each time out after <paramref name="timeout"/> (from the call to the answer).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    public static IProcessPool WithTimeout(this IProcessPool pool, TimeSpan timeout) => pool.WithJobOptions(new JobOptions { Timeout = timeout });

    /// <summary>Gets a view of the same pool whose jobs are queued again up to <paramref name="maxRetries"/> times when their worker dies.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRetries"/> is outside 0 to 100.</exception>
    public static IProcessPool WithRetries(this IProcessPool pool, int maxRetries) => pool.WithJobOptions(new JobOptions { MaxRetries = maxRetries });

    private sealed class ConfiguredProcessPool(IProcessPool inner, JobOptions options) : IProcessPool
    {
        public IProcessPool Inner => inner;

        public JobOptions Options => options;

        public string Name => inner.Name;

        public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken) =>
            inner.InvokeAsync<TResult>(target, arguments, options?.Or(Options) ?? Options, cancellationToken);

        public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken) =>
            inner.InvokeMany<TResult>(target, argumentSets, options?.Or(Options) ?? Options, cancellationToken);

        public PoolResult<TResult> InvokeEach<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, JobOptions? options, CancellationToken cancellationToken) =>
            inner.InvokeEach<TItem, TResult>(target, items, options?.Or(Options) ?? Options, cancellationToken);

        public ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default) => inner.GetStatusAsync(cancellationToken);
    }
}
