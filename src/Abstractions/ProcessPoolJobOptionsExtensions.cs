namespace ProcessPools;

/// <summary>Per-call settings: <c>await pool.WithTimeout(TimeSpan.FromSeconds(5)).ApplyAsync(Jobs.ParseAsync, path)</c>.</summary>
public static class ProcessPoolJobOptionsExtensions
{
    /// <summary>
    /// Gets a view of the same pool whose calls use these job options (settings left unset keep the
    /// pool's). The view shares the pool's workers and queues; disposing it does not close the pool.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public static IProcessPool WithJobOptions(this IProcessPool pool, JobOptions options)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        return pool is ConfiguredProcessPool configured
            ? new ConfiguredProcessPool(configured.Inner, options.Or(configured.Options))
            : new ConfiguredProcessPool(pool, options);
    }

    /// <summary>Gets a view of the same pool whose jobs each time out after <paramref name="timeout"/> (from the call to the answer).</summary>
    public static IProcessPool WithTimeout(this IProcessPool pool, TimeSpan timeout) => pool.WithJobOptions(new JobOptions { Timeout = timeout });

    /// <summary>Gets a view of the same pool whose jobs are queued again up to <paramref name="maxRetries"/> times when their worker dies.</summary>
    public static IProcessPool WithRetries(this IProcessPool pool, int maxRetries) => pool.WithJobOptions(new JobOptions { MaxRetries = maxRetries });

    private sealed class ConfiguredProcessPool(IProcessPool inner, JobOptions options) : IProcessPool
    {
        public IProcessPool Inner => inner;

        public JobOptions Options => options;

        public string Name => inner.Name;

        public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, CancellationToken cancellationToken = default) =>
            inner.InvokeAsync<TResult>(target, arguments, options, cancellationToken);

        public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken) =>
            inner.InvokeAsync<TResult>(target, arguments, options?.Or(Options) ?? Options, cancellationToken);

        public PoolResult<TResult> MapCore<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, CancellationToken cancellationToken = default) =>
            inner.MapCore<TResult>(target, argumentSets, options, cancellationToken);

        public PoolResult<TResult> MapCore<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken) =>
            inner.MapCore<TResult>(target, argumentSets, options?.Or(Options) ?? Options, cancellationToken);

        public JobTarget GetJob(Type argumentType) => inner.GetJob(argumentType);

        public ProcessPoolStatus GetStatus() => inner.GetStatus();

        public Task CloseAsync(CancellationToken cancellationToken = default) => inner.CloseAsync(cancellationToken);

        public Task TerminateAsync() => inner.TerminateAsync();

        // A view: the pool belongs to whoever created it (the host, or the caller of ProcessPool.StartAsync).
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
