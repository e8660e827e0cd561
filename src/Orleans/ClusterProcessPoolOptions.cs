namespace ProcessPools.Orleans;

/// <summary>Settings of a cluster-backed <see cref="IProcessPool"/>: where its jobs go and what happens when a silo is lost.</summary>
public sealed class ClusterProcessPoolOptions
{
    /// <summary>Gets or sets the name of the pool on the silos that runs the jobs (the empty string, the default, for their default pool).</summary>
    public string SiloPool { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets how many times a job (or a chunk of a map) is sent to another silo when the silo running it is lost
    /// (its process killed, its network gone: Orleans' membership declares it dead). 0, the default, fails it at once with
    /// <see cref="SiloLostException"/>. A job lost with its silo may have run there in part: retry only jobs that may run twice.
    /// </summary>
    public int MaxRetries { get; set; }

    /// <summary>Gets or sets how long a job may take from the call to its answer; <see langword="null"/> (the default) for no limit. Its cancellation reaches the worker process.</summary>
    public TimeSpan? JobTimeout { get; set; }

    /// <summary>Gets or sets how many items a map's input may run ahead of its consumer; 0 (the default) for the larger of 4,096 and four times the cluster's capacity.</summary>
    public int MapWindow { get; set; }

    /// <summary>
    /// Gets or sets the serializer of arguments and results. It must be the serializer the silos' pools use: the bytes it
    /// writes here are read in the silos' worker processes.
    /// </summary>
    public IJobSerializer Serializer { get; set; } = new JsonJobSerializer();

    /// <summary>Gets or sets the largest serialized arguments of one job or chunk (64 MiB by default), as the silos' pools take them.</summary>
    public int MaxMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Gets or sets how long a call waits for a silo that runs the execution grain when the cluster has none (30 s by default).</summary>
    public TimeSpan SiloWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks the settings; throws naming the first that is out of range.</summary>
    internal void Validate(string poolName)
    {
        ArgumentNullException.ThrowIfNull(SiloPool, nameof(SiloPool));
        ArgumentNullException.ThrowIfNull(Serializer, nameof(Serializer));
        Check(MaxRetries >= 0, nameof(MaxRetries), MaxRetries, "0 or more");
        Check(JobTimeout is null || JobTimeout > TimeSpan.Zero, nameof(JobTimeout), JobTimeout, "positive, or null for none");
        Check(MapWindow >= 0, nameof(MapWindow), MapWindow, "0 (automatic) or more");
        Check(MaxMessageSize >= 1024, nameof(MaxMessageSize), MaxMessageSize, "at least 1024");
        Check(SiloWaitTimeout > TimeSpan.Zero, nameof(SiloWaitTimeout), SiloWaitTimeout, "positive");

        void Check(bool ok, string name, object? value, string expected)
        {
            if (!ok)
            {
                throw new Microsoft.Extensions.Options.OptionsValidationException(
                    poolName, typeof(ClusterProcessPoolOptions), [$"ClusterProcessPoolOptions.{name} of cluster pool '{poolName}' is {value?.ToString() ?? "null"}; it must be {expected}."]);
            }
        }
    }
}

/// <summary>A job (or a chunk of a map's items) was running on a silo that was lost (it left the cluster, or the call to it was lost on the way), and no retry was left.</summary>
public sealed class SiloLostException : ProcessPoolException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="jobName">The job.</param>
    /// <param name="silo">The silo that was lost (its address).</param>
    /// <param name="attempts">How many silos the job was sent to.</param>
    /// <param name="innerException">What Orleans reported, if anything.</param>
    public SiloLostException(string jobName, string silo, int attempts, Exception? innerException = null)
        : base($"Job '{jobName}' was running on silo {silo}, which was lost before it answered (it left the cluster, or the call to it was lost on the way){(attempts > 1 ? $" (attempt {attempts})" : string.Empty)}; no retry was left (ClusterProcessPoolOptions.MaxRetries).", innerException)
    {
        JobName = jobName;
        Silo = silo;
        Attempts = attempts;
    }

    /// <summary>Gets the job's name.</summary>
    public string JobName { get; }

    /// <summary>Gets the address of the silo that was lost.</summary>
    public string Silo { get; }

    /// <summary>Gets how many silos the job was sent to.</summary>
    public int Attempts { get; }
}
