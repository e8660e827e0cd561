namespace ProcessPools.Protocol;

/// <summary>The exit codes a worker process ends with on its own, as the parent reports them.</summary>
internal static class WorkerExitCode
{
    /// <summary>Shut down as asked, after its running jobs.</summary>
    public const int Normal = 0;

    /// <summary>Started by hand: no channel or token in the environment.</summary>
    public const int NotStartedByPool = 2;

    /// <summary>Its host could not be built, or an initializer threw; the reason went to the parent first.</summary>
    public const int SetupFailed = 3;

    /// <summary>The channel broke or carried a frame that does not fit the protocol.</summary>
    public const int ChannelFailed = 4;

    /// <summary>The parent is gone (its process exited, or it stopped pinging).</summary>
    public const int ParentGone = 5;

    /// <summary>
    /// The application, relaunched as its own worker (<c>LaunchMode.ApplicationEntryPoint</c>), reached a pool of its
    /// own instead of handing over to the worker first thing in <c>Main</c>.
    /// </summary>
    public const int EntryPointNotHandedOver = 6;
}
