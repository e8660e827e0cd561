using Microsoft.CodeAnalysis;

namespace ProcessPools.Generators.Parsing;

/// <summary>
/// The types the generator recognizes, looked up once per compilation by metadata name and compared as symbols
/// (never by their display strings). A type the compilation does not reference is null, and nothing matches it.
/// </summary>
internal sealed class KnownTypes
{
    public KnownTypes(Compilation compilation)
    {
        ProcessPoolExtensions = compilation.GetTypeByMetadataName("ProcessPools.ProcessPoolExtensions");
        WorkerProcess = compilation.GetTypeByMetadataName("ProcessPools.WorkerProcess");
        BuilderExtensions = compilation.GetTypeByMetadataName("Microsoft.Extensions.DependencyInjection.ProcessPoolBuilderExtensions");
        ProcessJob = compilation.GetTypeByMetadataName("ProcessPools.IProcessJob`2");
        JobSerializer = compilation.GetTypeByMetadataName("ProcessPools.IJobSerializer");
        ProcessPoolOptions = compilation.GetTypeByMetadataName("ProcessPools.ProcessPoolOptions");
        ProcessPoolBuilder = compilation.GetTypeByMetadataName("Microsoft.Extensions.DependencyInjection.IProcessPoolBuilder");
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        ServiceProvider = compilation.GetTypeByMetadataName("System.IServiceProvider");
        Progress = compilation.GetTypeByMetadataName("System.IProgress`1");
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        Action = compilation.GetTypeByMetadataName("System.Action`1");
    }

    public INamedTypeSymbol? ProcessPoolExtensions { get; }

    public INamedTypeSymbol? WorkerProcess { get; }

    public INamedTypeSymbol? BuilderExtensions { get; }

    public INamedTypeSymbol? ProcessJob { get; }

    public INamedTypeSymbol? JobSerializer { get; }

    public INamedTypeSymbol? ProcessPoolOptions { get; }

    public INamedTypeSymbol? ProcessPoolBuilder { get; }

    public INamedTypeSymbol? CancellationToken { get; }

    public INamedTypeSymbol? ServiceProvider { get; }

    public INamedTypeSymbol? Progress { get; }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? Action { get; }

    /// <summary>Whether <paramref name="type"/> is <paramref name="known"/> (any construction of it, for a generic type).</summary>
    public static bool Is(ITypeSymbol? type, INamedTypeSymbol? known) =>
        known is not null && type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, known);

    /// <summary>Whether <paramref name="type"/> is <c>Action&lt;T&gt;</c> of <paramref name="argument"/>.</summary>
    public bool IsActionOf(ITypeSymbol type, INamedTypeSymbol? argument) =>
        type is INamedTypeSymbol { TypeArguments.Length: 1 } named && Is(named, Action) && Is(named.TypeArguments[0], argument);
}
