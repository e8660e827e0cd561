namespace ProcessPools.IntegrationTests;

/// <summary>
/// The packages as a user gets them: packed from src/ into a local feed, referenced by a fresh project outside
/// the repository (none of its build settings apply), built and run.
/// </summary>
[Collection(RepositoryBuilds.Name)]
public sealed class PackageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_fresh_project_referencing_the_packed_packages_runs_jobs_in_worker_processes()
    {
        var root = Directory.CreateTempSubdirectory("packages-").FullName;
        try
        {
            // A version of its own, so the NuGet cache never serves a package packed from other sources.
            var version = $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            var feed = Directory.CreateDirectory(Path.Combine(root, "feed")).FullName;
            foreach (var project in new[] { "Abstractions/ProcessPool.Abstractions.csproj", "Worker/ProcessPool.Worker.csproj", "Hosting/ProcessPool.Hosting.csproj" })
            {
                await RunAsync("dotnet", ["pack", Path.Combine(SampleProcess.RepositoryRoot, "src", project), "-c", "Release", "-o", feed, $"-p:Version={version}"], root);
            }

            Assert.Contains($"ProcessPool.Hosting.{version}.nupkg", Directory.GetFiles(feed).Select(Path.GetFileName));
            Assert.Contains($"ProcessPool.Hosting.{version}.snupkg", Directory.GetFiles(feed).Select(Path.GetFileName));

            // The source generator ships inside the Hosting package, with the props that enable its interceptors.
            using (var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"ProcessPool.Hosting.{version}.nupkg")))
            {
                var entries = package.Entries.Select(e => e.FullName).ToArray();
                Assert.Contains("analyzers/dotnet/cs/ProcessPool.Generators.dll", entries);
                Assert.Contains("build/ProcessPool.Hosting.props", entries);
                Assert.Contains("buildTransitive/ProcessPool.Hosting.props", entries);
            }

            var app = Directory.CreateDirectory(Path.Combine(root, "FreshApp")).FullName;
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <configuration>
                  <packageSources>
                    <add key="local-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            // The trim and AOT analyzers on, warnings as errors: a call the generator failed to intercept would fail this
            // build with IL2026.
            await WriteProjectAsync(app, "FreshApp", version, """
                    <IsAotCompatible>true</IsAotCompatible>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                using ProcessPools;

                await using var pool = await ProcessPool.StartAsync(o => o.Processes = 2);
                var squares = await pool.Map(Jobs.SquareAsync, Enumerable.Range(1, 10));
                var worker = await pool.ApplyAsync(Jobs.ProcessIdAsync);
                Console.WriteLine($"sum of squares {squares.Sum()}; parent {Environment.ProcessId}; worker {worker}");
                Console.WriteLine($"generated entries {ProcessPools.Generated.GeneratedRegistry.Count}");

                public static class Jobs
                {
                    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);

                    public static Task<int> ProcessIdAsync() => Task.FromResult(Environment.ProcessId);
                }
                """);

            var run = await RunAsync("dotnet", ["run", "--project", app], app);

            var match = System.Text.RegularExpressions.Regex.Match(run, @"sum of squares (\d+); parent (\d+); worker (\d+)");
            Assert.True(match.Success, run);
            Assert.Equal("385", match.Groups[1].Value);
            Assert.NotEqual(match.Groups[2].Value, match.Groups[3].Value);
            Assert.Contains("generated entries 2", run); // both jobs named at compile time, in a project that took only the package

            await TheGeneratorExplainsItselfAsync(root, version);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// A new user's mistakes, in a project on the packages: a lambda that captures a local warns (PP0001) in a plain JIT
    /// build, on the lambda, worded like the runtime's refusal; a delegate held in a variable stays on the reflection path
    /// (PP0010), which is information there and a warning in a trimmed publish.
    /// </summary>
    private async Task TheGeneratorExplainsItselfAsync(string root, string version)
    {
        var app = Directory.CreateDirectory(Path.Combine(root, "Mistakes")).FullName;
        File.Copy(Path.Combine(root, "FreshApp", "nuget.config"), Path.Combine(app, "nuget.config"));
        await WriteProjectAsync(app, "Mistakes", version, properties: string.Empty);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using ProcessPools;

            await using var pool = await ProcessPool.StartAsync(o => o.Processes = 1);
            var factor = args.Length + 2;
            Func<int, Task<int>> held = Jobs.Square;
            Console.WriteLine(await pool.ApplyAsync(held, 3));
            Console.WriteLine(await pool.ApplyAsync(v => Task.FromResult(v * factor), 4));

            public static class Jobs
            {
                public static Task<int> Square(int x) => Task.FromResult(x * x);
            }
            """);

        var build = await RunAsync("dotnet", ["build", app, "-c", "Release"], app);
        Assert.Matches(@"Program\.cs\(7,\d+\): warning PP0001: This job captures 'factor' from the code around it", build);
        Assert.DoesNotContain("warning PP0010", build, StringComparison.Ordinal); // information in a JIT build

        var publish = await RunAsync("dotnet", ["publish", app, "-c", "Release", "-r", TestPlatform.RuntimeIdentifier, "--self-contained", "-p:PublishTrimmed=true", "-o", Path.Combine(root, "mistakes-trimmed")], app);
        Assert.Matches(@"Program\.cs\(6,\d+\): warning PP0010: The job passed to 'ApplyAsync' is a delegate from a variable", publish);
        Assert.Matches(@"Program\.cs\(7,\d+\): warning PP0001", publish);
    }

    /// <summary>A console project on the packed ProcessPool.Hosting package, with <paramref name="properties"/> added to its settings.</summary>
    private static Task WriteProjectAsync(string directory, string name, string version, string properties) =>
        File.WriteAllTextAsync(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
            {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ProcessPool.Hosting" Version="{version}" />
              </ItemGroup>
            </Project>
            """);

    private async Task<string> RunAsync(string program, string[] arguments, string directory)
    {
        await using var process = SampleProcess.StartProgram(program, arguments, directory);
        var exitCode = await process.WaitForExitAsync(Patience);
        output.WriteLine(process.Output);
        Assert.True(exitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {exitCode}:{Environment.NewLine}{process.Output}");
        return process.Output;
    }
}
