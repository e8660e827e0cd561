namespace ProcessPools.UnitTests.Generators;

/// <summary>
/// The generated source of each call shape, diffed against a checked-in baseline (Generators/Baselines). A change to
/// what the generator writes shows in review as a change to these files. To accept one, run the tests with
/// PROCESSPOOL_UPDATE_BASELINES=1 and commit the rewritten baselines.
/// </summary>
public sealed class GeneratorBaselineTests
{
    public static TheoryData<string> Shapes => [.. Sources.Keys];

    private static readonly Dictionary<string, string> Sources = new()
    {
        ["Apply"] = """
            public static class Jobs
            {
                public static Task<int> Square(int x) => Task.FromResult(x * x);

                public static Task Log(string line, CancellationToken cancellationToken) => Task.CompletedTask;

                public static ValueTask<string?> Find(int key, IServiceProvider services, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);
            }

            public static class Calls
            {
                public static async Task Run(IProcessPool pool, CancellationToken cancellationToken)
                {
                    await pool.ApplyAsync(Jobs.Square, 1);
                    await pool.ApplyAsync(Jobs.Square, 2, cancellationToken); // the same overload and job: one interceptor serves the three
                    await pool.ApplyAsync(Jobs.Square, 3);
                    await pool.ApplyAsync(Jobs.Log, "line");
                    await pool.ApplyAsync(Jobs.Find, 4);
                    await pool.ApplyAsync(static (int a, string b) => Task.FromResult(b + a), 5, "x");
                    await pool.ApplyAsync(Hidden, 6);
                    await pool.ApplyAsync(Local, 7);

                    static Task<int> Local(int x) => Task.FromResult(x);
                }

                private static Task<int> Hidden(int x) => Task.FromResult(x);
            }
            """,
        ["Map"] = """
            public static class Jobs
            {
                public static Task<int> Square(int x) => Task.FromResult(x * x);

                public static ValueTask<long> Add(int a, long b, CancellationToken cancellationToken) => ValueTask.FromResult(a + b);
            }

            public static class Calls
            {
                public static async Task Run(IProcessPool pool, IAsyncEnumerable<int> stream)
                {
                    await pool.Map(Jobs.Square, new[] { 1, 2, 3 });
                    await pool.Map(Jobs.Square, stream);
                    await pool.StarMap(Jobs.Add, new[] { (1, 2L), (3, 4L) });
                }
            }
            """,
        ["WorkerProcess"] = """
            public static class Jobs
            {
                public static Task<string> Hello(string name) => Task.FromResult("hello " + name);

                public static Task Nothing() => Task.CompletedTask;
            }

            public static class Calls
            {
                public static async Task Run()
                {
                    await using var hello = await WorkerProcess.StartAsync(Jobs.Hello, "you");
                    await using var nothing = await WorkerProcess.StartAsync(Jobs.Nothing, configure: static o => o.Processes = 1);
                }
            }
            """,
        ["Registrations"] = GeneratorHarness.RegistrationsSource,
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_generated_source_matches_its_baseline(string shape)
    {
        var result = GeneratorHarness.Run(Sources[shape]);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(result.Compilation));

        var file = $"{shape}.generated.txt";
        if (Environment.GetEnvironmentVariable("PROCESSPOOL_UPDATE_BASELINES") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), file), result.Generated);
            return;
        }

        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Generators", "Baselines", file)).ReplaceLineEndings("\n");
        Assert.Equal(expected, result.Generated);
    }

    /// <summary>The baselines' folder in the repository (CI builds map source paths, so it is found from the test's output up).</summary>
    private static string SourceDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Hosting.sln")))
            {
                return Path.Combine(directory.FullName, "tests", "ProcessPool.UnitTests", "Generators", "Baselines");
            }
        }

        throw new InvalidOperationException("The repository root (Hosting.sln) was not found above " + AppContext.BaseDirectory);
    }
}
