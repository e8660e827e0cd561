using System.Diagnostics;
using ProcessPools.Channels;

namespace ProcessPools.Supervision;

/// <summary>How the processes a worker's jobs start are kept from outliving it.</summary>
internal enum ContainmentKind
{
    /// <summary>Nothing: the OS offers no group this code knows.</summary>
    None,

    /// <summary>Unix: the worker leads its own process group; what is left of the group when it dies is killed.</summary>
    ProcessGroup,

    /// <summary>Windows: the worker runs in a Job Object of its own that kills its processes when closed (the worker's
    /// death, or the parent's, whose handles the OS closes even on a crash).</summary>
    JobObject,
}

/// <summary>
/// Keeps a worker's process tree together: when the worker dies (crashed, killed, or asked to leave), the processes its
/// jobs started die with it, and on Windows when the parent dies too. Setting it up can fail (a Windows host that
/// does not allow nested jobs, a worker that could not lead its own group): the worker then runs uncontained, and
/// the pool logs it once.
/// </summary>
internal abstract class WorkerContainment : IDisposable
{
    /// <summary>Containment for none: what a failed set-up falls back to.</summary>
    public static readonly WorkerContainment Uncontained = new NoContainment();

    /// <summary>The kind of containment on an OS, a decision unit-tested for every OS.</summary>
    public static ContainmentKind KindFor(HostOs os) => os switch
    {
        HostOs.Windows => ContainmentKind.JobObject,
        HostOs.Linux or HostOs.MacOS or HostOs.OtherUnix => ContainmentKind.ProcessGroup,
        _ => ContainmentKind.None,
    };

    /// <summary>Contains a just-started worker; <see cref="Uncontained"/> with <paramref name="failure"/> set when that failed.</summary>
    public static WorkerContainment For(Process worker, HostOs os, out string? failure)
    {
        failure = null;
        try
        {
            return KindFor(os) switch
            {
                ContainmentKind.JobObject when OperatingSystem.IsWindows() => JobObjectContainment.Create(worker),
                ContainmentKind.ProcessGroup when !OperatingSystem.IsWindows() => new ProcessGroupContainment(worker.Id),
                _ => Uncontained,
            };
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException or EntryPointNotFoundException or DllNotFoundException)
        {
            failure = exception.Message;
            return Uncontained;
        }
    }

    /// <summary>Once the worker is ready: checks what only it could set up (its process group); the reason when it is not contained.</summary>
    public virtual string? Confirm() => null;

    /// <summary>After the worker's exit: ends the processes its jobs left running.</summary>
    public abstract void EndRest();

    public virtual void Dispose()
    {
    }

    private sealed class NoContainment : WorkerContainment
    {
        public override void EndRest()
        {
        }
    }

    /// <summary>The worker makes itself a process group leader when it starts; the group is killed after its death.</summary>
    private sealed class ProcessGroupContainment(int workerProcessId) : WorkerContainment
    {
        private volatile bool _leads;

        public override string? Confirm()
        {
            _leads = UnixProcess.GetProcessGroup(workerProcessId) == workerProcessId;
            return _leads ? null : $"worker process {workerProcessId} does not lead a process group of its own";
        }

        public override void EndRest()
        {
            if (_leads)
            {
                _ = UnixProcess.Kill(-workerProcessId, UnixProcess.SigKill); // ESRCH when nothing is left: nothing to do
            }
        }
    }
}
