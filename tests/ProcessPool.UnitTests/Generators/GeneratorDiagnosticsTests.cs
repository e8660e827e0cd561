using System.Globalization;
using Microsoft.CodeAnalysis;

namespace ProcessPools.UnitTests.Generators;

/// <summary>
/// Every reason a call stays on the reflection path, or is certain to fail, has its diagnostic: the id, where it is
/// placed (the lambda, the method group, the delegate), what it says, and its severity in a JIT build and in the
/// builds that trim (PublishTrimmed, PublishAot, IsAotCompatible). The call itself is then not intercepted.
/// </summary>
public sealed class GeneratorDiagnosticsTests
{
    private const string Jobs = """
        public static class Jobs
        {
            public static Task<int> Square(int x) => Task.FromResult(x * x);

            public static Task<int> Report(int x, IProgress<int> progress) => Task.FromResult(x);

            public static Task<T> Echo<T>(T value) => Task.FromResult(value);
        }

        """;

    [Fact]
    public void PP0001_a_lambda_that_captures_a_local_warns_in_every_build_on_the_lambda()
    {
        var diagnostic = Single("""
            public sealed class Calls
            {
                public Task<int> Run(IProcessPool pool, int x)
                {
                    var factor = 2;
                    return pool.ApplyAsync(v => Task.FromResult(v * factor), x);
                }
            }
            """, "PP0001", DiagnosticSeverity.Warning);

        Assert.Equal("v => Task.FromResult(v * factor)", Text(diagnostic));
        Assert.Contains("This job captures 'factor' from the code around it", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("mark the lambda 'static'", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void PP0001_names_a_captured_parameter_and_this_and_covers_host_configurators()
    {
        var diagnostic = Single("""
            public sealed class Calls
            {
                private readonly int _offset = 1;

                public Task<int> Run(IProcessPool pool, int x) => pool.ApplyAsync((int v) => Task.FromResult(v + x + _offset), 1);
            }
            """, "PP0001", DiagnosticSeverity.Warning);
        Assert.Contains("captures 'x' and 'this'", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var configurator = Single("""
            public static class Calls
            {
                public static void Add(IServiceCollection services, string name) =>
                    services.AddProcessPool().ConfigureWorkerHost(worker => worker.Properties[name] = name);
            }
            """, "PP0001", DiagnosticSeverity.Warning);
        Assert.Contains("This worker host configurator captures 'name'", configurator.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void PP0002_an_instance_method_warns_in_every_build()
    {
        var diagnostic = Single("""
            public sealed class Calls
            {
                public Task<int> Run(IProcessPool pool) => pool.ApplyAsync(Instance, 1);

                private Task<int> Instance(int x) => Task.FromResult(x);
            }
            """, "PP0002", DiagnosticSeverity.Warning);

        Assert.Equal("Instance", Text(diagnostic));
        Assert.Contains("'Calls.Instance(int)' is an instance method", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    /// <summary>
    /// A first mistake: a job that returns its value. No overload binds, and the compiler says only "cannot convert from
    /// 'method group'" (CS1503); PP0003, on the method group, says what a job returns.
    /// </summary>
    [Fact]
    public void PP0003_a_method_group_returning_a_plain_value_is_explained_beside_the_compilers_error()
    {
        var result = GeneratorHarness.Run(Jobs + """
            public static class Calls
            {
                public static Task<int> Apply(IProcessPool pool) => pool.ApplyAsync(Plain.Triple, 5);

                public static PoolResult<int> Map(IProcessPool pool) => pool.Map(Plain.Triple, [1, 2]);

                public static Task<WorkerProcess<int>> Start() => WorkerProcess.StartAsync(Plain.Triple, 5);

                public static Task<int> WrongArgument(IProcessPool pool) => pool.ApplyAsync(Jobs.Square, "five"); // unbound for another reason
            }

            public static class Plain
            {
                public static int Triple(int x) => x * 3;
            }
            """);

        Assert.Contains(GeneratorHarness.Errors(result.Compilation), e => e.Id == "CS1503"); // the compiler's error stays
        var explained = result.Diagnostics.Where(d => d.Id == "PP0003").ToArray();
        Assert.Equal(3, explained.Length);
        Assert.Equal(result.Diagnostics.Length, explained.Length); // nothing said of the call whose argument is wrong
        Assert.All(explained, d =>
        {
            Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
            Assert.Equal("Plain.Triple", Text(d));
        });
        Assert.Equal(
            "The job 'Plain.Triple(int)' returns int; a job returns Task, Task<T>, ValueTask or ValueTask<T>, so no overload of 'ApplyAsync' takes it. Return Task.FromResult(...) from it, or make it async.",
            explained[0].GetMessage(CultureInfo.InvariantCulture));
        Assert.Contains("no overload of 'StartAsync'", explained[2].GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void PP0010_a_delegate_held_in_a_variable_is_information_in_a_JIT_build_and_a_warning_where_it_trims()
    {
        const string source = """
            public static class Calls
            {
                public static Task<int> Run(IProcessPool pool, Func<int, Task<int>> held) => pool.ApplyAsync(held, 1);
            }
            """;
        var diagnostic = Single(source, "PP0010", DiagnosticSeverity.Info);
        Assert.Equal("held", Text(diagnostic));
        Assert.Contains("not a method or lambda written at the call", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        Assert.Equal(DiagnosticSeverity.Warning, Single(source, "PP0010", DiagnosticSeverity.Warning, build: ("PublishTrimmed", "true")).Severity);
        Assert.Equal(DiagnosticSeverity.Warning, Single(source, "PP0010", DiagnosticSeverity.Warning, build: ("PublishAot", "true")).Severity);
        Assert.Equal(DiagnosticSeverity.Warning, Single(source, "PP0010", DiagnosticSeverity.Warning, build: ("IsAotCompatible", "true")).Severity);
        Assert.Equal(DiagnosticSeverity.Info, Single(source, "PP0010", DiagnosticSeverity.Info, build: ("PublishTrimmed", "false")).Severity);
    }

    [Fact]
    public void PP0011_a_generic_job_or_a_lambda_in_a_generic_method()
    {
        var method = Single(Jobs + """
            public static class Calls
            {
                public static Task<int> Run(IProcessPool pool) => pool.ApplyAsync(Jobs.Echo<int>, 1);
            }
            """, "PP0011", DiagnosticSeverity.Info);
        Assert.Contains("The job 'Jobs.Echo' is generic", method.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        Single("""
            public static class Calls
            {
                public static Task<int> Run<T>(IProcessPool pool) => pool.ApplyAsync(static (int x) => Task.FromResult(x), 1);
            }
            """, "PP0011", DiagnosticSeverity.Info);
    }

    [Fact]
    public void PP0012_a_job_that_reports_progress()
    {
        var diagnostic = Single(Jobs + """
            public static class Calls
            {
                public static Task<int> Run(IProcessPool pool) => pool.ApplyAsync(Jobs.Report, 1, new Progress<int>());
            }
            """, "PP0012", DiagnosticSeverity.Info);
        Assert.Contains("'Jobs.Report' takes an IProgress<T>", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void PP0013_a_type_generated_code_cannot_name()
    {
        var diagnostic = Single("""
            public static class Calls
            {
                private sealed record Secret(int Value);

                public static Task<int> Run(IProcessPool pool) => pool.ApplyAsync(static (Secret s) => Task.FromResult(s.Value), new Secret(1));
            }
            """, "PP0013", DiagnosticSeverity.Info);
        Assert.Contains("uses 'Calls.Secret'", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        Single("""
            file static class Hidden
            {
                public static Task<int> Job(int x) => Task.FromResult(x);
            }

            public static class Calls
            {
                public static Task<int> Run(IProcessPool pool) => pool.ApplyAsync(Hidden.Job, 1);
            }
            """, "PP0013", DiagnosticSeverity.Info);
    }

    [Fact]
    public void PP0014_a_job_class_or_service_that_cannot_be_registered_at_compile_time()
    {
        var diagnostic = Single("""
            public static class Setup
            {
                private sealed class Init : IWorkerInitializer
                {
                    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
                }

                public static void Add(IServiceCollection services) => services.AddProcessPool().AddWorkerInitializer<Init>();
            }
            """, "PP0014", DiagnosticSeverity.Info);
        Assert.Contains("'Setup.Init' cannot be registered by generated code", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var generic = Single("""
            public static class Setup
            {
                public static void Add<TInit>(IServiceCollection services) where TInit : class, IWorkerInitializer =>
                    services.AddProcessPool().AddWorkerInitializer<TInit>();
            }
            """, "PP0014", DiagnosticSeverity.Info);
        Assert.Contains("type parameter", generic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Calls_in_conditional_and_static_form_are_intercepted_and_need_no_diagnostic()
    {
        var result = GeneratorHarness.Run(Jobs + """
            public static class Calls
            {
                public static Task<int>? Conditional(IProcessPool? pool) => pool?.ApplyAsync(Jobs.Square, 1);

                public static Task<int> Static(IProcessPool pool) => ProcessPoolExtensions.ApplyAsync(pool, Jobs.Square, 2);
            }
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Empty(GeneratorHarness.Errors(result.Compilation));
        var calls = GeneratorHarness.Invocations(result.Compilation, "Calls").Where(c => c.Name == "ApplyAsync").ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, call => Assert.True(call.Intercepted, $"line {call.Line}"));
    }

    /// <summary>Runs the generator on <paramref name="source"/>; checks it reports exactly one diagnostic, with <paramref name="id"/> at <paramref name="severity"/>, and the call is not intercepted.</summary>
    private static Diagnostic Single(string source, string id, DiagnosticSeverity severity, (string Name, string Value)? build = null)
    {
        var result = build is { } property ? GeneratorHarness.Run(source, property) : GeneratorHarness.Run(source);
        Assert.Empty(GeneratorHarness.Errors(result.Compilation));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(id, diagnostic.Descriptor.Id);
        Assert.True(diagnostic.Location.IsInSource, "placed in the source, where '#pragma warning disable' applies");
        Assert.DoesNotContain("InterceptsLocation(", result.Generated, StringComparison.Ordinal);
        return diagnostic;
    }

    private static string Text(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree!.GetText(TestContext.Current.CancellationToken).ToString(diagnostic.Location.SourceSpan);
}
