using ProcessPools.Channels;
namespace ProcessPools.Supervision;

/// <summary>
/// The launcher's OS decisions as pure functions of paths and the OS, so that each is unit-tested for every OS from any
/// one: the host's name, whether the application is self-contained, and what relaunching it means. Paths are read with
/// the OS's own separators and case rules (on Windows both slashes, case-insensitive).
/// </summary>
internal static class LaunchPlan
{
    /// <summary>The dotnet host's file name.</summary>
    public static string HostName(HostOs os) => os == HostOs.Windows ? "dotnet.exe" : "dotnet";

    /// <summary>The last segment of a path on <paramref name="os"/>.</summary>
    public static string FileNameOf(string path, HostOs os)
    {
        var separator = os == HostOs.Windows ? path.LastIndexOfAny(['\\', '/']) : path.LastIndexOf('/');
        return path[(separator + 1)..];
    }

    /// <summary>Whether <paramref name="path"/> is the dotnet host itself (then the application runs as <c>dotnet app.dll</c>).</summary>
    public static bool IsHost(string path, HostOs os) =>
        string.Equals(FileNameOf(path, os), HostName(os), os == HostOs.Windows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>
    /// What <see cref="WorkerLaunchMode.Auto"/> means: the worker assembly under <c>dotnet exec</c> when the application is
    /// framework-dependent (its runtime is not in its own folder), not single-file (its assemblies have paths) and a
    /// dotnet host exists; otherwise the application relaunched as its own worker.
    /// </summary>
    /// <param name="workerAssembly">ProcessPool.Worker.dll's path; empty in a single-file or Native AOT application.</param>
    /// <param name="runtimeDirectory">The folder of the runtime in use (System.Private.CoreLib's); empty in single-file or Native AOT.</param>
    /// <param name="applicationDirectory">The application's base directory.</param>
    /// <param name="hostFound">Whether a dotnet host was found.</param>
    /// <param name="os">The OS.</param>
    public static WorkerLaunchMode AutoMode(string? workerAssembly, string? runtimeDirectory, string applicationDirectory, bool hostFound, HostOs os)
    {
        if (string.IsNullOrEmpty(workerAssembly) || string.IsNullOrEmpty(runtimeDirectory))
        {
            return WorkerLaunchMode.ApplicationEntryPoint; // single-file or Native AOT
        }

        var selfContained = string.Equals(Trim(runtimeDirectory, os), Trim(applicationDirectory, os), os == HostOs.Windows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        return !selfContained && hostFound ? WorkerLaunchMode.WorkerAssembly : WorkerLaunchMode.ApplicationEntryPoint;
    }

    /// <summary>
    /// How to relaunch the application as its own worker: its executable (an apphost, a single-file or Native AOT
    /// binary) with no argument, or, when it runs as <c>dotnet app.dll</c>, the host with the entry assembly.
    /// </summary>
    /// <returns>The program and its arguments; null arguments when the entry assembly is needed but unknown.</returns>
    public static (string Program, string[]? Arguments) Relaunch(string processPath, string? entryAssembly, HostOs os) =>
        IsHost(processPath, os)
            ? (processPath, string.IsNullOrEmpty(entryAssembly) ? null : [entryAssembly])
            : (processPath, []);

    private static string Trim(string directory, HostOs os) =>
        directory.TrimEnd(os == HostOs.Windows ? ['\\', '/'] : ['/']);
}
