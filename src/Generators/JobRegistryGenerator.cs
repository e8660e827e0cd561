using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using ProcessPools.Generators.Emitting;
using ProcessPools.Generators.Model;
using ProcessPools.Generators.Parsing;

namespace ProcessPools.Generators;

/// <summary>
/// Names an application's jobs at compile time. For each call of <c>ApplyAsync</c>, <c>Map</c>, <c>StarMap</c>,
/// <c>WorkerProcess.StartAsync</c> and <c>ConfigureWorkerHost</c> that passes a static method or a lambda capturing
/// nothing, it emits an interceptor that names the job by a stable id (no reflection in the parent) and a
/// registration with a typed invoker (no reflection in the worker); for each <c>AddJob&lt;T&gt;()</c>,
/// <c>AddWorkerInitializer&lt;T&gt;()</c> and <c>AddJobExceptionHandler&lt;T&gt;()</c>, and each serializer class, a
/// registration that creates it without reflection. Every call it leaves to reflection gets a diagnostic saying why
/// (information, or a warning in a trimmed or Native AOT build); a call certain to fail gets a warning in every build.
/// </summary>
/// <remarks>
/// Three stages, as the configuration binding generator has them: the parser reads each call into an equatable model
/// (<see cref="SiteModel"/>, no symbols and no syntax), the emitter renders the collected model, and diagnostics are
/// reported from the model. An edit that changes no call leaves every model equal, so nothing is emitted again.
/// </remarks>
[Generator(LanguageNames.CSharp)]
public sealed class JobRegistryGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var sites = context.SyntaxProvider.CreateSyntaxProvider(CallParser.IsCandidate, CallParser.Parse)
            .Where(static site => site is not null)
            .Select(static (site, _) => site!)
            .WithTrackingName(TrackingNames.CallSites);

        var serializers = context.SyntaxProvider.CreateSyntaxProvider(SerializerParser.IsCandidate, SerializerParser.Parse)
            .Where(static registration => registration is not null)
            .Select(static (registration, _) => registration!)
            .WithTrackingName(TrackingNames.Serializers);

        var registry = sites.Collect().Combine(serializers.Collect())
            .Select(static (pair, _) => new RegistryModel(
                pair.Left.Where(s => s.Call is not null).Select(s => s.Call!).ToEquatableArray(),
                pair.Left.Where(s => s.Registration is not null).Select(s => s.Registration!).Concat(pair.Right).ToEquatableArray()))
            .WithTrackingName(TrackingNames.Registry);

        var diagnostics = sites.Where(static s => s.Diagnostic is not null).Select(static (s, _) => s.Diagnostic!).Collect()
            .Select(static (all, _) => all.ToEquatableArray())
            .WithTrackingName(TrackingNames.Diagnostics);

        var build = context.AnalyzerConfigOptionsProvider.Select(static (options, _) => BuildKind.Of(options.GlobalOptions))
            .WithTrackingName(TrackingNames.Build);

        context.RegisterSourceOutput(registry, static (output, model) =>
        {
            if (RegistryEmitter.Emit(model.Calls, model.Registrations) is { } source)
            {
                output.AddSource("ProcessPool.JobRegistry.g.cs", source);
            }
        });

        // Reported against the compilation's own syntax trees, so that '#pragma warning disable PP0001' and
        // [SuppressMessage] apply (a diagnostic at a path and span only cannot be suppressed in source). Only this
        // loop runs again on an edit; the parsing above stays cached.
        context.RegisterSourceOutput(diagnostics.Combine(build).Combine(context.CompilationProvider), static (output, input) =>
        {
            var ((found, kind), compilation) = input;
            foreach (var diagnostic in found)
            {
                var tree = compilation.SyntaxTrees.FirstOrDefault(t => t.FilePath == diagnostic.FilePath);
                output.ReportDiagnostic(diagnostic.ToDiagnostic(kind.SeverityOf(diagnostic.Descriptor), tree));
            }
        });
    }
}

/// <summary>The names of the pipeline's steps, which tests read to check what the driver cached.</summary>
public static class TrackingNames
{
    /// <summary>Each call site read into the model.</summary>
    public const string CallSites = nameof(CallSites);

    /// <summary>Each serializer class read into the model.</summary>
    public const string Serializers = nameof(Serializers);

    /// <summary>The collected model the emitter renders.</summary>
    public const string Registry = nameof(Registry);

    /// <summary>The collected diagnostics.</summary>
    public const string Diagnostics = nameof(Diagnostics);

    /// <summary>The build's kind (trimmed or not), which sets the diagnostics' severity.</summary>
    public const string Build = nameof(Build);
}

/// <summary>The collected model: what the emitter renders.</summary>
internal sealed record RegistryModel(EquatableArray<CallSpec> Calls, EquatableArray<RegistrationSpec> Registrations);

/// <summary>
/// Whether the build analyzes for trimming or Native AOT (<c>PublishTrimmed</c>, <c>PublishAot</c> or
/// <c>IsAotCompatible</c>, made visible to the compiler by the package's props): there, a call left to reflection
/// will not work, so its diagnostic is a warning rather than information.
/// </summary>
internal readonly record struct BuildKind(bool Trimmed)
{
    private static readonly string[] Properties = ["PublishTrimmed", "PublishAot", "IsAotCompatible"];

    public static BuildKind Of(AnalyzerConfigOptions options) =>
        new(Properties.Any(p => options.TryGetValue($"build_property.{p}", out var value) && string.Equals(value, "true", System.StringComparison.OrdinalIgnoreCase)));

    public DiagnosticSeverity SeverityOf(DiagnosticDescriptor descriptor) =>
        Trimmed && descriptor.DefaultSeverity == DiagnosticSeverity.Info ? DiagnosticSeverity.Warning : descriptor.DefaultSeverity;
}
