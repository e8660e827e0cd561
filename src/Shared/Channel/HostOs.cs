namespace ProcessPools.Channels;

/// <summary>
/// The operating systems whose process behaviour differs for the pool: exit codes and signals, handle inheritance,
/// process containment, parent checks, paths. Every OS decision takes one as a parameter, so that each is
/// unit-tested for every OS from any one; <see cref="HostPlatform.Current"/> is the one this process runs on.
/// </summary>
internal enum HostOs
{
    Linux,
    MacOS,
    Windows,

    /// <summary>Another Unix (FreeBSD): POSIX behaviour only.</summary>
    OtherUnix,
}

/// <summary>The OS this process runs on.</summary>
internal static class HostPlatform
{
    public static HostOs Current => OperatingSystem.IsWindows() ? HostOs.Windows
        : OperatingSystem.IsMacOS() ? HostOs.MacOS
        : OperatingSystem.IsLinux() ? HostOs.Linux
        : HostOs.OtherUnix;
}
