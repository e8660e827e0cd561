using System.Runtime.InteropServices;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Marks the channel's inherited pipe descriptors close-on-exec. They are inherited on purpose (that is how the
/// worker gets them), so they lack the flag every descriptor .NET opens itself has; without it, a process a job
/// starts holds both ends, and a crashed worker's channel stays open until that process exits (seen: the crash
/// reported ~3 s late, without its exit code).
/// </summary>
internal static partial class CloseOnExec
{
    private const int GetDescriptorFlags = 1; // F_GETFD
    private const int SetDescriptorFlags = 2; // F_SETFD
    private const int CloseOnExecFlag = 1;    // FD_CLOEXEC

    public static void Set(SafeHandle descriptor)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD()))
        {
            return; // Windows: the worker's copies are not inherited by processes it starts unless asked for
        }

        var fd = (int)descriptor.DangerousGetHandle();
        var flags = Fcntl(fd, GetDescriptorFlags, 0);
        if (flags < 0 || Fcntl(fd, SetDescriptorFlags, flags | CloseOnExecFlag) < 0)
        {
            throw new IOException($"Could not mark the channel's descriptor {fd} close-on-exec (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fcntl(int fd, int command, int argument);
}
