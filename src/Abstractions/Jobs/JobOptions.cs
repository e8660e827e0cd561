namespace ProcessPools;

/// <summary>
/// Per-call settings that override the pool's (<see cref="ProcessPoolOptions.JobTimeout"/>,
/// <see cref="ProcessPoolOptions.MaxRetries"/>); apply them with <c>pool.WithJobOptions(...)</c>,
/// <c>pool.WithTimeout(...)</c> or <c>pool.WithRetries(...)</c>.
/// </summary>
public sealed record JobOptions
{
    /// <summary>Gets how long each job may take from the call to its answer; <see langword="null"/> keeps the pool's.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Gets how many times a job whose worker died is queued again; <see langword="null"/> keeps the pool's.</summary>
    public int? MaxRetries { get; init; }

    /// <summary>These options, with any setting left unset taken from <paramref name="fallback"/>.</summary>
    public JobOptions Or(JobOptions? fallback) =>
        fallback is null ? this : new JobOptions { Timeout = Timeout ?? fallback.Timeout, MaxRetries = MaxRetries ?? fallback.MaxRetries };

    internal void Validate(string paramName)
    {
        if (Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout, "A job timeout must be positive.");
        }

        if (MaxRetries is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(paramName, MaxRetries, "MaxRetries must be between 0 and 100.");
        }
    }
}
