using System.Runtime.InteropServices;

namespace ProcessPools.IntegrationTests;

/// <summary>What a test that publishes or starts an application needs to know of the OS it runs on.</summary>
public static class TestPlatform
{
    /// <summary>The runtime identifier of this machine (linux-x64, win-x64, osx-arm64...), for <c>dotnet publish -r</c>.</summary>
    public static string RuntimeIdentifier => RuntimeInformation.RuntimeIdentifier;

    /// <summary>
    /// Checks that a worker was lost to <c>Process.Kill</c>, as each OS reports it: signal 9 (SIGKILL) on Linux and macOS,
    /// exit code -1 (TerminateProcess with -1) on Windows.
    /// </summary>
    public static void AssertKilled(WorkerLostException lost)
    {
        if (OperatingSystem.IsWindows())
        {
            Xunit.Assert.Equal(-1, lost.ExitCode);
            Xunit.Assert.Null(lost.Signal);
        }
        else
        {
            Xunit.Assert.Equal(9, lost.Signal);
        }
    }

    /// <summary>An executable's file name on this OS: <c>.exe</c> on Windows.</summary>
    public static string Executable(string name) => OperatingSystem.IsWindows() ? name + ".exe" : name;
}
