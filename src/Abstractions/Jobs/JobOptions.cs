namespace ProcessPools;

/// <summary>
/// Per-call settings that override the pool's (<see cref="ProcessPoolOptions.JobTimeout"/>,
/// <see cref="ProcessPoolOptions.MaxRetries"/>); apply them with <c>pool.WithJobOptions(...)</c>,
/// <c>pool.WithTimeout(...)</c> or <c>pool.WithRetries(...)</c>, or pass them to <see cref="IProcessPool.InvokeAsync{TResult}"/>.
/// </summary>
/// <remarks>A setting out of range throws where it is set, so an instance is always valid.</remarks>
public sealed class JobOptions
{
    private readonly TimeSpan? _timeout;
    private readonly int? _maxRetries;

    /// <summary>Gets how long each job may take from the call to its answer; <see langword="null"/> keeps the pool's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero or a negative time.</exception>
    public TimeSpan? Timeout
    {
        get => _timeout;
        init => _timeout = value is { } timeout && timeout <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(Timeout), timeout, "A job timeout must be positive.")
            : value;
    }

    /// <summary>Gets how many times a job whose worker died is queued again; <see langword="null"/> keeps the pool's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set outside 0 to 100.</exception>
    public int? MaxRetries
    {
        get => _maxRetries;
        init => _maxRetries = value is < 0 or > 100
            ? throw new ArgumentOutOfRangeException(nameof(MaxRetries), value, "MaxRetries must be between 0 and 100.")
            : value;
    }

    /// <summary>Returns these options, with any setting left unset taken from <paramref name="fallback"/>.</summary>
    public JobOptions Or(JobOptions? fallback) =>
        fallback is null ? this : new JobOptions { Timeout = Timeout ?? fallback.Timeout, MaxRetries = MaxRetries ?? fallback.MaxRetries };
}
