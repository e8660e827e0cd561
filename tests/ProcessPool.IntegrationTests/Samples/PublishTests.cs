namespace ProcessPools.IntegrationTests;

/// <summary>
/// Every deployment shape runs jobs: the console sample published self-contained and single-file (where no
/// worker assembly can be run with a dotnet host), then run as a user would run it. <c>LaunchMode.Auto</c>
/// relaunches the application itself as its workers there.
/// </summary>
public sealed class PublishTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    /// <summary>Regression: a self-contained publish failed to build (NETSDK1067), and from packages failed at run time looking for a dotnet host.</summary>
    [LinuxFact]
    public Task A_self_contained_application_runs_its_jobs() => PublishAndRunAsync("self-contained", ["--self-contained"]);

    /// <summary>Regression: a single-file publish failed with "ProcessPool.Worker.dll was not found beside the application".</summary>
    [LinuxFact]
    public Task A_single_file_application_runs_its_jobs() => PublishAndRunAsync("single-file", ["--self-contained", "-p:PublishSingleFile=true"]);

    private async Task PublishAndRunAsync(string shape, string[] options)
    {
        var directory = Directory.CreateTempSubdirectory($"publish-{shape}-").FullName;
        try
        {
            var project = Path.Combine(SampleProcess.RepositoryRoot, "samples", "ConsoleSample");
            await using (var publish = SampleProcess.StartProgram("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", directory, .. options], project))
            {
                var published = await publish.WaitForExitAsync(Patience);
                Assert.True(published == 0, publish.Output);
            }

            Assert.False(File.Exists(Path.Combine(directory, "dotnet")));
            await using var app = SampleProcess.StartProgram(Path.Combine(directory, "ConsoleSample"), ["8"], directory);
            var exitCode = await app.WaitForExitAsync(Patience);
            output.WriteLine(app.Output);

            Assert.True(exitCode == 0, app.Output);
            Assert.Contains("launch mode Auto: workers run ConsoleSample", app.Output); // the application itself (its dll, or its single file)
            Assert.Contains("starmap: 3, 7, 11", app.Output);
            Assert.Contains("exit code 0", app.Output); // the one-off worker process too
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
