using ProcessPools.Channels;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>How a worker is launched on each OS, decided from paths with the OS as a parameter (Windows paths included).</summary>
public sealed class LaunchPlanTests
{
    [Theory]
    [InlineData("Linux", "/usr/share/dotnet/dotnet", true)]
    [InlineData("MacOS", "/usr/local/share/dotnet/dotnet", true)]
    [InlineData("Linux", "/app/MyApp", false)]
    [InlineData("Linux", "/opt/Dotnet", false)] // case counts on Unix
    [InlineData("Windows", @"C:\Program Files\dotnet\dotnet.exe", true)]
    [InlineData("Windows", @"C:\Program Files\dotnet\DOTNET.EXE", true)]
    [InlineData("Windows", @"C:\app\MyApp.exe", false)]
    [InlineData("Windows", @"C:\app\dotnet", false)] // no .exe: not the host
    public void The_dotnet_host_is_known_by_its_file_name_on_each_OS(string os, string path, bool isHost) =>
        Assert.Equal(isHost, LaunchPlan.IsHost(path, Enum.Parse<HostOs>(os)));

    [Theory]
    [InlineData("Linux", "/app/ProcessPool.Worker.dll", "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.1", "/app/", true, "WorkerAssembly")]
    [InlineData("Linux", "/app/ProcessPool.Worker.dll", "/app", "/app/", true, "ApplicationEntryPoint")]          // self-contained: the runtime is in the app's folder
    [InlineData("Linux", "", "", "/app/", true, "ApplicationEntryPoint")]                                           // single-file or Native AOT
    [InlineData("Linux", "/app/ProcessPool.Worker.dll", "/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.1", "/app/", false, "ApplicationEntryPoint")] // no host
    [InlineData("Windows", @"C:\app\ProcessPool.Worker.dll", @"C:\Program Files\dotnet\shared\Microsoft.NETCore.App\10.0.1", @"C:\app\", true, "WorkerAssembly")]
    [InlineData("Windows", @"C:\App\ProcessPool.Worker.dll", @"C:\app", @"C:\App\", true, "ApplicationEntryPoint")] // the same folder, in another case
    [InlineData("MacOS", "/Users/me/app/ProcessPool.Worker.dll", "/Users/me/App", "/Users/me/app/", true, "WorkerAssembly")] // case counts here
    public void Auto_picks_the_worker_assembly_only_for_a_framework_dependent_application_with_a_host(
        string os, string worker, string runtime, string application, bool hostFound, string expected) =>
        Assert.Equal(expected, LaunchPlan.AutoMode(worker, runtime, application, hostFound, Enum.Parse<HostOs>(os)).ToString());

    [Theory]
    [InlineData("Windows", @"C:\app\MyApp.exe", @"C:\app\MyApp.dll", @"C:\app\MyApp.exe", "")]                                              // an apphost
    [InlineData("Windows", @"C:\Program Files\dotnet\dotnet.exe", @"C:\app\MyApp.dll", @"C:\Program Files\dotnet\dotnet.exe", @"C:\app\MyApp.dll")] // dotnet MyApp.dll
    [InlineData("Linux", "/app/MyApp", "", "/app/MyApp", "")]                                                                               // single-file: no entry assembly path
    [InlineData("Linux", "/usr/share/dotnet/dotnet", "/app/MyApp.dll", "/usr/share/dotnet/dotnet", "/app/MyApp.dll")]
    public void Relaunching_the_application_runs_its_executable_or_the_host_with_its_entry_assembly(string os, string processPath, string entry, string program, string arguments)
    {
        var (launched, launchArguments) = LaunchPlan.Relaunch(processPath, entry, Enum.Parse<HostOs>(os));

        Assert.Equal(program, launched);
        Assert.Equal(arguments, string.Join(' ', launchArguments!));
    }

    [Fact]
    public void Relaunching_through_the_host_needs_the_entry_assembly() =>
        Assert.Null(LaunchPlan.Relaunch("/usr/share/dotnet/dotnet", entryAssembly: null, HostOs.Linux).Arguments);
}
