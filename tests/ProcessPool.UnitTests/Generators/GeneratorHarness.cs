using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using ProcessPools.Generators;

namespace ProcessPools.UnitTests.Generators;

/// <summary>Runs the source generator on real code, as the compiler does, against the repository's own assemblies.</summary>
internal static class GeneratorHarness
{
    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using ProcessPools;

        """;

    /// <summary>A job class, an initializer, an exception handler, a serializer and a host configurator: every registration the generator writes.</summary>
    public const string RegistrationsSource = """
        public sealed record Request(int Value) : IJobRequest<int>;

        public sealed class DoubleJob : IProcessJob<Request, int>
        {
            public Task<int> ExecuteAsync(Request argument, CancellationToken cancellationToken) => Task.FromResult(argument.Value * 2);
        }

        public sealed class Init : IWorkerInitializer
        {
            public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public sealed class Handler : IJobExceptionHandler
        {
            public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        }

        public sealed class MySerializer : JsonJobSerializer;

        public static class Setup
        {
            public static void Add(IServiceCollection services) => services.AddProcessPool()
                .AddJob<DoubleJob>()
                .AddWorkerInitializer<Init>()
                .AddJobExceptionHandler<Handler>()
                .ConfigureWorkerHost(static worker => worker.Services.AddSingleton<Init>());
        }
        """;

    public static readonly CSharpParseOptions ParseOptions = new CSharpParseOptions(LanguageVersion.Preview)
        .WithFeatures([new("InterceptorsNamespaces", "ProcessPools.Generated")]);

    private static readonly ImmutableArray<MetadataReference> References = [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(path => MetadataReference.CreateFromFile(path))];

    /// <summary>A compilation of <paramref name="source"/> (after the usings above) in the file Test.cs.</summary>
    public static CSharpCompilation Compile(string source, string path = "Test.cs") => CSharpCompilation.Create(
        "GeneratorTest",
        [CSharpSyntaxTree.ParseText(Usings + source, ParseOptions, path: path)],
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>A driver of the generator that records each step, as the IDE's does; build properties as MSBuild passes them.</summary>
    public static GeneratorDriver Driver(params (string Name, string Value)[] buildProperties) => CSharpGeneratorDriver.Create(
        [new JobRegistryGenerator().AsSourceGenerator()],
        parseOptions: ParseOptions,
        optionsProvider: new BuildProperties(buildProperties),
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; the compilation it produces (interceptors included), its source, and its diagnostics.</summary>
    public static Result Run(string source, params (string Name, string Value)[] buildProperties)
    {
        var compilation = Compile(source);
        var driver = Driver(buildProperties).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics, TestContext.Current.CancellationToken);
        var generated = driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()).SingleOrDefault() ?? string.Empty;
        return new Result(output, generated, diagnostics);
    }

    public static ImmutableArray<Diagnostic> Errors(Compilation compilation) =>
        [.. compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error)];

    /// <summary>Each member call in <paramref name="typeName"/>: its name, line, and whether the compiler runs an interceptor there.</summary>
    public static IEnumerable<(string Name, int Line, bool Intercepted)> Invocations(Compilation compilation, string typeName)
    {
        var tree = compilation.SyntaxTrees.First();
        var model = compilation.GetSemanticModel(tree);
        var type = tree.GetRoot().DescendantNodes().OfType<TypeDeclarationSyntax>().Single(t => t.Identifier.ValueText == typeName);
        foreach (var invocation in type.DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            var name = invocation.Expression switch
            {
                MemberAccessExpressionSyntax member => member.Name,
                MemberBindingExpressionSyntax binding => binding.Name,
                _ => null,
            };
            if (name is not null)
            {
#pragma warning disable RSEXPERIMENTAL002 // GetInterceptorMethod: the compiler's own answer to "which method runs here".
                var interceptor = model.GetInterceptorMethod(invocation, TestContext.Current.CancellationToken);
#pragma warning restore RSEXPERIMENTAL002
                yield return (name.Identifier.ValueText, invocation.GetLocation().GetLineSpan().StartLinePosition.Line + 1, interceptor is not null);
            }
        }
    }

    public sealed record Result(Compilation Compilation, string Generated, ImmutableArray<Diagnostic> Diagnostics);

    private sealed class BuildProperties((string Name, string Value)[] properties) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(properties.ToDictionary(p => $"build_property.{p.Name}", p => p.Value));

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.None;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.None;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options None = new([]);

            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}
