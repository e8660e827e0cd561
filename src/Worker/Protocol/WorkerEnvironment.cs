namespace ProcessPools.Protocol;

/// <summary>
/// The environment variables that carry a worker's bootstrap data. They go in the environment, never on
/// the command line, which any user of the machine can read in the process list.
/// </summary>
internal static class WorkerEnvironment
{
    public const int ProtocolVersion = 2;

    /// <summary>The inherited handle of the pipe the child reads (parent to child).</summary>
    public const string InputHandle = "PROCESSPOOL_CHANNEL_IN";

    /// <summary>The inherited handle of the pipe the child writes (child to parent).</summary>
    public const string OutputHandle = "PROCESSPOOL_CHANNEL_OUT";

    /// <summary>The handshake token the child echoes in its hello.</summary>
    public const string Token = "PROCESSPOOL_TOKEN";

    /// <summary>The parent's process id.</summary>
    public const string ParentProcessId = "PROCESSPOOL_PARENT_PID";

    public static readonly string[] All = [InputHandle, OutputHandle, Token, ParentProcessId];
}
