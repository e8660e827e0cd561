using ProcessPools.Channels;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Unix: the worker leads a process group of its own, which the processes its jobs start join. The parent kills what
/// is left of the group when the worker dies (crashed or killed), and a worker whose parent died ends its group on
/// its way out: no process a job started outlives the pool. (Windows: the parent puts each worker in a Job Object.)
/// </summary>
internal static class ProcessGroup
{
    /// <summary>Whether this process leads its own group: set when <see cref="Lead"/> succeeded.</summary>
    public static bool Leads { get; private set; }

    /// <summary>Makes this process the leader of a new process group; a failure leaves it where it was (the parent logs it once).</summary>
    public static void Lead()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            Leads = UnixProcess.SetProcessGroup(0, 0) == 0 || UnixProcess.GetProcessGroup(0) == Environment.ProcessId;
        }
        catch (Exception exception) when (exception is EntryPointNotFoundException or DllNotFoundException)
        {
            Leads = false;
        }
    }

    /// <summary>Ends every process of this worker's group, this one included; nothing when it leads none (that group is others' too).</summary>
    public static void EndAll()
    {
        if (Leads)
        {
            _ = UnixProcess.Kill(0, UnixProcess.SigKill);
        }
    }
}
