using System.Runtime.InteropServices;
using ProcessPools.Channels;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Keeps the worker's channel private to the worker: a process a job starts must not inherit it. The channel's handles
/// are inherited on purpose (that is how the worker gets them), so they lack the "not inheritable" mark every handle
/// .NET opens itself has; without it, a process a job starts holds both ends, and a crashed worker's channel stays
/// open until that process exits (seen on Linux: the crash reported ~3 s late, without its exit code). How the mark is
/// set depends on the OS (<see cref="ChannelPlatform.PrivacyFor"/>); docs/architecture.md says why the channel stays a pair of
/// inherited anonymous pipes rather than a named pipe or socket.
/// </summary>
internal static partial class CloseOnExec
{
    private const int GetDescriptorFlags = 1; // F_GETFD
    private const int SetDescriptorFlags = 2; // F_SETFD
    private const int CloseOnExecFlag = 1;    // FD_CLOEXEC
    private const uint HandleFlagInherit = 1; // HANDLE_FLAG_INHERIT

    public static void Set(SafeHandle handle)
    {
        switch (ChannelPlatform.PrivacyFor(HostPlatform.Current, RuntimeInformation.ProcessArchitecture))
        {
            case ChannelPrivacy.ClearHandleInherit:
                if (!SetHandleInformation(handle.DangerousGetHandle(), HandleFlagInherit, 0))
                {
                    throw new IOException($"Could not make the channel's handle 0x{handle.DangerousGetHandle():X} not inheritable (error {Marshal.GetLastPInvokeError()}).");
                }

                break;
            case ChannelPrivacy.Fcntl:
                SetCloseOnExec((int)handle.DangerousGetHandle(), onStack: false);
                break;
            case ChannelPrivacy.FcntlArgumentOnStack:
                SetCloseOnExec((int)handle.DangerousGetHandle(), onStack: true);
                break;
        }
    }

    /// <summary>
    /// Sets FD_CLOEXEC and reads it back. Where the call's shape did not set it (an ABI this code has not met), the other
    /// shape is tried; where neither did, the worker still runs and says so on its standard error (the parent logs it):
    /// its jobs' processes may then hold the channel, as before this check.
    /// </summary>
    private static void SetCloseOnExec(int fd, bool onStack)
    {
        var flags = FcntlGet(fd, GetDescriptorFlags);
        if (flags < 0)
        {
            throw new IOException($"Could not read the flags of the channel's descriptor {fd} (errno {Marshal.GetLastPInvokeError()}).");
        }

        foreach (var stack in new[] { onStack, !onStack })
        {
            _ = stack
                ? FcntlStackArgument(fd, SetDescriptorFlags, 0, 0, 0, 0, 0, 0, flags | CloseOnExecFlag)
                : FcntlRegisterArgument(fd, SetDescriptorFlags, flags | CloseOnExecFlag);
            if ((FcntlGet(fd, GetDescriptorFlags) & CloseOnExecFlag) != 0)
            {
                return;
            }
        }

        Console.Error.WriteLine($"ProcessPool worker {Environment.ProcessId}: could not mark the channel's descriptor {fd} close-on-exec on {RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}; processes its jobs start may hold the channel open.");
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FcntlGet(int fd, int command);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FcntlRegisterArgument(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FcntlStackArgument(int fd, int command, nint x2, nint x3, nint x4, nint x5, nint x6, nint x7, nint argument);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetHandleInformation(nint handle, uint mask, uint flags);
}
