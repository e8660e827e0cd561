using System.Diagnostics;

namespace ProcessPools.Channels;

/// <summary>How a worker checks that its parent still lives, per OS; the worker's watchdog asks it every few seconds.</summary>
internal static class ParentLiveness
{
    /// <summary>The ways to ask.</summary>
    internal enum Method
    {
        /// <summary>Unix: <c>getppid()</c> still names the parent. A dead parent's children are re-parented at once, and the
        /// call cannot be fooled by a new process that took the parent's pid (Linux and macOS alike, no /proc, no kqueue).</summary>
        ParentProcessId,

        /// <summary>Windows: a handle to the parent opened when the worker starts. Windows reuses pids quickly, so a lookup by
        /// pid could find another process; the handle keeps naming the parent, and says when it exited.</summary>
        ProcessHandle,
    }

    /// <summary>The method on an OS: a decision unit-tested for every OS from any one.</summary>
    public static Method MethodFor(HostOs os) => os == HostOs.Windows ? Method.ProcessHandle : Method.ParentProcessId;

    /// <summary>A check that <paramref name="parentProcessId"/> still lives, set up now (the handle is opened here on Windows).</summary>
    public static Func<bool> For(int parentProcessId)
    {
        if (MethodFor(HostPlatform.Current) == Method.ProcessHandle)
        {
            try
            {
                var parent = Process.GetProcessById(parentProcessId);
                _ = parent.Handle; // opened now, while the pid is still the parent's
                return () => !parent.HasExited;
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return static () => false; // gone already
            }
        }

        return () => UnixProcess.GetParentProcessId() == parentProcessId;
    }
}
