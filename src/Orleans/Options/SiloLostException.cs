namespace ProcessPools.Orleans;

/// <summary>
/// A job (or a chunk of a map's items) was running on a silo that was lost (it left the cluster, or its answer was lost on
/// the way) while it may have run there, and no retry was left; or no silo's pool could be reached for
/// <see cref="ClusterProcessPoolOptions.SiloWaitTimeout"/>.
/// </summary>
public sealed class SiloLostException : ProcessPoolException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="jobName">The job.</param>
    /// <param name="silo">The silo that was lost (its address).</param>
    /// <param name="attempts">How many times the job may have run.</param>
    /// <param name="innerException">What Orleans reported, if anything.</param>
    public SiloLostException(string jobName, string silo, int attempts, Exception? innerException = null)
        : base(attempts == 0
            ? $"Job '{jobName}' could not reach the pool of any silo, silo {silo} last: {innerException?.Message}"
            : $"Job '{jobName}' was running on silo {silo}, which was lost before it answered (it left the cluster, or its answer was lost on the way){(attempts > 1 ? $" (attempt {attempts})" : string.Empty)}; no retry was left (ClusterProcessPoolOptions.MaxRetries).", innerException)
    {
        JobName = jobName;
        Silo = silo;
        Attempts = attempts;
    }

    /// <summary>Gets the job's name.</summary>
    public string JobName { get; }

    /// <summary>Gets the address of the silo that was lost (or last tried).</summary>
    public string Silo { get; }

    /// <summary>Gets how many times the job may have run; 0 when it never reached a silo's pool.</summary>
    public int Attempts { get; }
}
