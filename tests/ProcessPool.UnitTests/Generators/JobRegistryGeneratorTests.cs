using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace ProcessPools.UnitTests.Generators;

/// <summary>
/// The source generator on real code: which calls it intercepts, which it leaves to the reflection path, what it
/// registers, and that the compilation it produces is free of errors (interceptors included).
/// </summary>
public sealed class JobRegistryGeneratorTests
{
    [Fact]
    public void Static_lambdas_method_groups_private_methods_and_local_functions_are_intercepted()
    {
        var (compilation, generated) = Run("""
            public static class Jobs
            {
                public static Task<int> Square(int x) => Task.FromResult(x * x);
            }

            public static class Calls
            {
                public static async Task Run(IProcessPool pool)
                {
                    await pool.ApplyAsync(static (int x) => Task.FromResult(x + 1), 1);
                    await pool.ApplyAsync(Jobs.Square, 2);
                    await pool.ApplyAsync(Hidden, 3);
                    await pool.ApplyAsync(Local, 4);
                    await pool.Map(static (int x, CancellationToken ct) => ValueTask.FromResult(x), new[] { 1, 2 });
                    await pool.StarMap(static (int a, string b) => Task.FromResult(b + a), new[] { (1, "a") });
                    await pool.ApplyAsync(static (IServiceProvider services, CancellationToken ct) => Task.CompletedTask);
                    await WorkerProcess.StartAsync(Jobs.Square, 5);

                    static Task<int> Local(int x) => Task.FromResult(x);
                }

                private static Task<int> Hidden(int x) => Task.FromResult(x);
            }
            """);

        Assert.Empty(Errors(compilation));
        var calls = Invocations(compilation, "Calls").Where(c => c.Name is "ApplyAsync" or "Map" or "StarMap" or "StartAsync").ToList();
        Assert.Equal(8, calls.Count);
        Assert.All(calls, call => Assert.True(call.Intercepted, $"{call.Name} at line {call.Line} is not intercepted"));

        // Accessible methods are called directly; a private method, a local function and lambdas are found by name in their type.
        Assert.Contains("new global::System.Func<int, global::System.Threading.Tasks.Task<int>>(global::Jobs.Square)", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedRegistry.Bind<global::System.Func<int, global::System.Threading.Tasks.Task<int>>>(typeof(global::Calls), site)", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedInvoker.Unary<int, int>", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedInvoker.CreateScoped(", generated, StringComparison.Ordinal); // the IServiceProvider job gets a scope
    }

    [Fact]
    public void Calls_the_generator_cannot_name_stay_on_the_reflection_path()
    {
        var (compilation, _) = Run(refuses: true, source: """
            public static class Jobs
            {
                public static Task<int> Report(int x, IProgress<int> progress) => Task.FromResult(x);

                public static Task<T> Echo<T>(T value) => Task.FromResult(value);
            }

            file static class FileLocal
            {
                public static Task<int> Job(int x) => Task.FromResult(x);
            }

            public sealed class Calls
            {
                private readonly int _offset = 3;

                public async Task Run(IProcessPool pool, Func<int, Task<int>> held)
                {
                    var factor = 2;
                    await pool.ApplyAsync((int x) => Task.FromResult(x * factor), 1);   // captures a local
                    await pool.ApplyAsync((int x) => Task.FromResult(x + _offset), 1);  // captures this
                    await pool.ApplyAsync(held, 1);                                     // a delegate held in a variable
                    await pool.ApplyAsync(Instance, 1);                                 // an instance method
                    await pool.ApplyAsync(Jobs.Report, 1, new Progress<int>());         // reports progress
                    await pool.ApplyAsync(Jobs.Echo<int>, 1);                           // generic
                    await pool.ApplyAsync(FileLocal.Job, 1);                            // a file-local class: the generated file cannot see it
                    await Generic<int>(pool);
                }

                private static Task Generic<T>(IProcessPool pool) => pool.ApplyAsync(static (int x) => Task.FromResult(x), 1);

                private Task<int> Instance(int x) => Task.FromResult(x + _offset);
            }
            """);

        Assert.Empty(Errors(compilation));
        var calls = Invocations(compilation, "Calls").Where(c => c.Name == "ApplyAsync").ToList();
        Assert.Equal(8, calls.Count);
        Assert.All(calls, call => Assert.False(call.Intercepted, $"ApplyAsync at line {call.Line} was intercepted"));
    }

    [Fact]
    public void Job_classes_initializers_handlers_serializers_and_host_configurators_are_registered()
    {
        var (compilation, generated) = Run(GeneratorHarness.RegistrationsSource);

        Assert.Empty(Errors(compilation));
        Assert.Contains("GeneratedRegistry.AddJobClass<global::DoubleJob, global::Request, int>();", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedRegistry.AddWorkerInitializer<global::Init>();", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedRegistry.AddJobExceptionHandler<global::Handler>();", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedRegistry.AddSerializer<global::MySerializer>();", generated, StringComparison.Ordinal);
        Assert.Contains("GeneratedRegistry.AddHostConfigurator(", generated, StringComparison.Ordinal);
        Assert.True(Invocations(compilation, "Setup").Single(c => c.Name == "ConfigureWorkerHost").Intercepted);
    }

    [Fact]
    public void A_compilation_without_calls_gets_no_generated_file()
    {
        var (_, generated) = Run("public static class Nothing { public static int Two() => 2; }");

        Assert.Equal(string.Empty, generated);
    }

    private static (Compilation Compilation, string Generated) Run(string source, bool refuses = false)
    {
        var result = GeneratorHarness.Run(source);
        Assert.Equal(refuses, !result.Diagnostics.IsEmpty); // each refusal is covered, id by id, in GeneratorDiagnosticsTests
        return (result.Compilation, result.Generated);
    }

    private static ImmutableArray<Diagnostic> Errors(Compilation compilation) => GeneratorHarness.Errors(compilation);

    private static IEnumerable<(string Name, int Line, bool Intercepted)> Invocations(Compilation compilation, string typeName) => GeneratorHarness.Invocations(compilation, typeName);
}
