using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ProcessPools.Generators;

namespace ProcessPools.UnitTests.Generators;

/// <summary>
/// The generator is incremental as the IDE needs it: an edit that changes no call leaves every step's output cached
/// or unchanged, so nothing is parsed into a new model and no source is emitted again. It fails if the model holds
/// anything compared by reference (a symbol, a syntax node, an ImmutableArray).
/// </summary>
public sealed class GeneratorIncrementalityTests
{
    private const string Calls = """
        public static class Jobs
        {
            public static Task<int> Square(int x) => Task.FromResult(x * x);
        }

        public sealed class Calls
        {
            public static async Task Run(IProcessPool pool, Func<int, Task<int>> held, int factor)
            {
                await pool.ApplyAsync(Jobs.Square, 1);
                await pool.Map(static (int x) => Task.FromResult(x + 1), new[] { 1, 2 });
                await pool.ApplyAsync(held, 2);                                   // PP0010
                await pool.ApplyAsync((int x) => Task.FromResult(x * factor), 3); // PP0001
            }
        }
        """;

    [Fact]
    public void An_edit_in_another_file_leaves_every_step_cached_and_the_output_unchanged()
    {
        var first = GeneratorHarness.Compile(Calls).AddSyntaxTrees(Other("public static class Other { public static int One() => 1; }"));
        var driver = GeneratorHarness.Driver().RunGenerators(first, TestContext.Current.CancellationToken);
        var before = driver.GetRunResult();
        Assert.Equal(2, before.Diagnostics.Length);

        var edited = first.ReplaceSyntaxTree(first.SyntaxTrees.Last(), Other("public static class Other { public static int Two() => 2; }"));
        var after = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult();

        var steps = after.Results.Single().TrackedSteps;
        foreach (var name in new[] { TrackingNames.CallSites, TrackingNames.Registry, TrackingNames.Diagnostics, TrackingNames.Build })
        {
            Assert.True(steps.ContainsKey(name), $"the step '{name}' is tracked");
            var reasons = steps[name].SelectMany(step => step.Outputs).Select(output => output.Reason).ToList();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step '{name}' ran again: {reason}"));
        }

        Assert.Equal(before.GeneratedTrees.Single().ToString(), after.GeneratedTrees.Single().ToString());
        Assert.Equal(before.Diagnostics.Select(d => d.ToString()), after.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_new_call_changes_the_model_and_the_output()
    {
        var first = GeneratorHarness.Compile(Calls).AddSyntaxTrees(Other("public static class Other { }"));
        var driver = GeneratorHarness.Driver().RunGenerators(first, TestContext.Current.CancellationToken);
        var before = driver.GetRunResult().GeneratedTrees.Single().ToString();

        var edited = first.ReplaceSyntaxTree(first.SyntaxTrees.Last(), Other("public static class Other { public static Task<int> Run(IProcessPool pool) => pool.ApplyAsync(Jobs.Square, 9); }"));
        var after = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult();

        var registry = after.Results.Single().TrackedSteps[TrackingNames.Registry].SelectMany(step => step.Outputs).Single();
        Assert.Equal(IncrementalStepRunReason.Modified, registry.Reason);
        Assert.NotEqual(before, after.GeneratedTrees.Single().ToString());
        Assert.Contains("// Other.cs:", after.GeneratedTrees.Single().ToString(), StringComparison.Ordinal);
    }

    private static SyntaxTree Other(string source) =>
        CSharpSyntaxTree.ParseText(GeneratorHarness.Usings + source, GeneratorHarness.ParseOptions, path: "Other.cs");
}
