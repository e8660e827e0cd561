namespace ProcessPools.Protocol;

/// <summary>
/// The environment variables that carry a worker's bootstrap data. They go in the environment, never on
/// the command line, which any user of the machine can read in the process list.
/// </summary>
internal static class WorkerEnvironment
{
    /// <summary>The protocol both sides speak; the hello carries it, and a mismatch fails the handshake.</summary>
    public const int ProtocolVersion = 6;

    /// <summary>The frame size limit of a channel until the worker's setup says otherwise (the default of <c>MaxMessageSize</c>).</summary>
    public const int DefaultMaxMessageSize = 64 * 1024 * 1024;

    /// <summary>The inherited handle of the pipe the child reads (parent to child).</summary>
    public const string InputHandle = "PROCESSPOOL_CHANNEL_IN";

    /// <summary>The inherited handle of the pipe the child writes (child to parent).</summary>
    public const string OutputHandle = "PROCESSPOOL_CHANNEL_OUT";

    /// <summary>
    /// Marks a process as a pool's worker. Not a secret: the handshake token travels in the channel's first frame
    /// (<see cref="Channels.FrameType.Challenge"/>), never in the environment, which a process of the same user can
    /// read in <c>/proc/&lt;pid&gt;/environ</c> for the worker's whole life.
    /// </summary>
    public const string Marker = "PROCESSPOOL_WORKER";

    /// <summary>The parent's process id.</summary>
    public const string ParentProcessId = "PROCESSPOOL_PARENT_PID";

    /// <summary>
    /// The largest frame the worker accepts (<c>MaxMessageSize</c>), in force from the channel's first byte: the
    /// setup frame comes too late for the reader, which starts before it.
    /// </summary>
    public const string MaxMessageSize = "PROCESSPOOL_MAX_MESSAGE_SIZE";

    /// <summary>How many seconds the worker waits for a debugger to attach before it builds its host (<c>WaitForDebugger</c>); absent: none.</summary>
    public const string WaitForDebugger = "PROCESSPOOL_WAIT_FOR_DEBUGGER";

    /// <summary>The channel's shared-memory plan (<see cref="Channels.SharedMemoryPlan.Format"/>), in force from the first frame; absent: none.</summary>
    public const string SharedMemory = "PROCESSPOOL_SHARED_MEMORY";

    public static readonly string[] All = [InputHandle, OutputHandle, Marker, ParentProcessId, MaxMessageSize, WaitForDebugger, SharedMemory];
}
