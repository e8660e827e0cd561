namespace ProcessPools.IntegrationTests;

/// <summary>
/// Every deployment shape runs jobs: the console sample published self-contained and single-file (where no
/// worker assembly can be run with a dotnet host), then run as a user would run it. <c>LaunchMode.Auto</c>
/// relaunches the application itself as its workers there.
/// </summary>
[Collection(RepositoryBuilds.Name)]
public sealed class PublishTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    /// <summary>Regression: a self-contained publish failed to build (NETSDK1067), and from packages failed at run time looking for a dotnet host.</summary>
    [Fact]
    public Task A_self_contained_application_runs_its_jobs() => PublishAndRunAsync("self-contained", ["--self-contained"]);

    /// <summary>Regression: a single-file publish failed with "ProcessPool.Worker.dll was not found beside the application".</summary>
    [Fact]
    public Task A_single_file_application_runs_its_jobs() => PublishAndRunAsync("single-file", ["--self-contained", "-p:PublishSingleFile=true"]);

    /// <summary>
    /// Regression: a trimmed publish silently stopped binding ProcessPoolOptions from configuration (reflection-based
    /// binding), then failed with "Reflection-based serialization has been disabled". The SDK trims only self-contained
    /// applications (NETSDK1102 otherwise), so this one is; every trim warning fails the publish.
    /// </summary>
    [Fact]
    public async Task A_trimmed_application_binds_its_options_from_appsettings_json_and_runs_its_jobs()
    {
        var directory = Directory.CreateTempSubdirectory("publish-trimmed-").FullName;
        try
        {
            var project = Path.Combine(SampleProcess.RepositoryRoot, "tests", "ProcessPool.TestApp");
            await PublishAsync(project, directory, ["-r", TestPlatform.RuntimeIdentifier, "--self-contained", "-p:PublishTrimmed=true", "-warnaserror"]);

            await using var app = SampleProcess.StartProgram(Path.Combine(directory, TestPlatform.Executable("ProcessPool.TestApp")), ["options"], directory);
            var exitCode = await app.WaitForExitAsync(Patience);
            output.WriteLine(app.Output);

            Assert.True(exitCode == 0, app.Output);
            Assert.Contains("OPTIONS Processes=3 ChildConcurrency=2 MaxRetries=1 HeartbeatInterval=00:00:02 LaunchMode=Auto", app.Output);
            Assert.Contains("MAP 1,4,9 from 3 workers", app.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The Native AOT sample: published with every trim and AOT warning an error, then run; it checks its own results
    /// (a map answered by at least two worker processes, a job class, an initializer, an exception handler).
    /// </summary>
    [Fact]
    public async Task The_native_AOT_sample_publishes_without_warnings_and_passes_its_checks()
    {
        var directory = Directory.CreateTempSubdirectory("publish-aot-").FullName;
        try
        {
            var project = Path.Combine(SampleProcess.RepositoryRoot, "samples", "AotSample");
            await PublishAsync(project, directory, ["-warnaserror"]);
            Assert.False(File.Exists(Path.Combine(directory, "AotSample.dll")), "a Native AOT publish leaves no managed assembly to run");

            await using var app = SampleProcess.StartProgram(Path.Combine(directory, TestPlatform.Executable("AotSample")), [], directory);
            var exitCode = await app.WaitForExitAsync(Patience);
            output.WriteLine(app.Output);

            Assert.True(exitCode == 0, app.Output);
            Assert.Contains("AOT sample: all checks passed", app.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task PublishAsync(string project, string directory, string[] options)
    {
        await using var publish = SampleProcess.StartProgram("dotnet", ["publish", project, "-c", "Release", "-o", directory, .. options], project);
        var published = await publish.WaitForExitAsync(Patience);
        Assert.True(published == 0, publish.Output);
        Assert.DoesNotMatch(@"warning IL\d{4}", publish.Output);
    }

    private async Task PublishAndRunAsync(string shape, string[] options)
    {
        var directory = Directory.CreateTempSubdirectory($"publish-{shape}-").FullName;
        try
        {
            var project = Path.Combine(SampleProcess.RepositoryRoot, "samples", "ConsoleSample");
            await using (var publish = SampleProcess.StartProgram("dotnet", ["publish", project, "-c", "Release", "-r", TestPlatform.RuntimeIdentifier, "-o", directory, .. options], project))
            {
                var published = await publish.WaitForExitAsync(Patience);
                Assert.True(published == 0, publish.Output);
            }

            Assert.False(File.Exists(Path.Combine(directory, TestPlatform.Executable("dotnet"))));
            await using var app = SampleProcess.StartProgram(Path.Combine(directory, TestPlatform.Executable("ConsoleSample")), ["8"], directory);
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
