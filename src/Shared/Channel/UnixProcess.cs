using System.Runtime.InteropServices;

namespace ProcessPools.Channels;

/// <summary>The few libc process calls both sides make on Linux and macOS: parent and process-group ids, and signals.</summary>
internal static partial class UnixProcess
{
    /// <summary>SIGKILL: the same number on every Unix.</summary>
    public const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "getppid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int GetParentProcessId();

    [LibraryImport("libc", EntryPoint = "setpgid", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int SetProcessGroup(int processId, int groupId);

    [LibraryImport("libc", EntryPoint = "getpgid", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int GetProcessGroup(int processId);

    /// <summary><c>kill(2)</c>: a negative <paramref name="processId"/> names a process group, 0 the caller's own.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    public static partial int Kill(int processId, int signal);
}
