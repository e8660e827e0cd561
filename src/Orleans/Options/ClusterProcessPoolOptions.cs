using System.ComponentModel.DataAnnotations;

namespace ProcessPools.Orleans;

/// <summary>
/// Settings of a cluster-backed <see cref="IProcessPool"/>: where its jobs go and what happens when a silo is lost. Bound
/// from configuration (by convention the <c>"ClusterProcessPool"</c> section) and validated when the host starts: a key
/// that is no setting, or a value out of range, fails the start with a message naming the key's full path.
/// </summary>
public sealed class ClusterProcessPoolOptions
{
    /// <summary>Gets or sets the name of the pool on the silos that runs the jobs.</summary>
    /// <value>The empty string, the default, for the silos' default pool.</value>
    [Required(AllowEmptyStrings = true)]
    public string SiloPool { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets how many more times a job (or a chunk of a map) runs when the silo running it was lost while it may
    /// have run there (its process killed, its network gone: Orleans' membership declares it dead). A call that never
    /// reached a silo's pool (no live gateway, a placement that failed, a silo that drains as it stops gracefully) is sent
    /// again without counting here. A job lost with its silo may have run there in part: retry only jobs that may run twice.
    /// </summary>
    /// <value>0, the default: a job lost with its silo fails at once with <see cref="SiloLostException"/>.</value>
    [Range(0, 100)]
    public int MaxRetries { get; set; }

    /// <summary>Gets or sets how long a job may take from the call to its answer. Its cancellation reaches the worker process.</summary>
    /// <value><see langword="null"/>, the default, for no limit.</value>
    public TimeSpan? JobTimeout { get; set; }

    /// <summary>Gets or sets how many items a map's input may run ahead of its consumer.</summary>
    /// <value>0, the default, for the larger of 16,384 and four times the cluster's capacity.</value>
    [Range(0, int.MaxValue)]
    public int MapWindow { get; set; }

    /// <summary>
    /// Gets or sets the serializer of arguments and results. It must be the serializer the silos' pools use: the bytes it
    /// writes here are read in the silos' worker processes. Set in code only.
    /// </summary>
    /// <value>A <see cref="JsonJobSerializer"/> by default.</value>
    [Required]
    public IJobSerializer Serializer { get; set; } = new JsonJobSerializer();

    /// <summary>Gets or sets the largest serialized arguments of one job or chunk, as the silos' pools take them.</summary>
    /// <value>64 MiB by default.</value>
    [Range(1024, int.MaxValue)]
    public int MaxMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Gets or sets how long a call waits for a silo that can take it while none can (none runs the execution grain, every
    /// one drains, or none can be reached), before it fails.
    /// </summary>
    /// <value>30 seconds by default.</value>
    public TimeSpan SiloWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
