using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ProcessPools.Generators.Model;

/// <summary>
/// A diagnostic as the model carries it: its descriptor, where, and its message's arguments. No syntax tree and no
/// <see cref="Location"/> (which holds one), so an unchanged call stays equal across edits and its step is cached.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, string FilePath, TextSpan Span, LinePositionSpan Lines, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location location, params string[] arguments)
    {
        var lines = location.GetLineSpan();
        return new DiagnosticInfo(descriptor, lines.Path ?? string.Empty, location.SourceSpan, lines.Span, arguments.ToEquatableArray());
    }

    /// <summary>The diagnostic to report, at <paramref name="severity"/>, in <paramref name="tree"/> when the compilation still has it.</summary>
    public Diagnostic ToDiagnostic(DiagnosticSeverity severity, SyntaxTree? tree)
    {
        var args = new object[Arguments.Count];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = Arguments[i];
        }

        return Diagnostic.Create(Descriptor, tree is null ? Location.Create(FilePath, Span, Lines) : Location.Create(tree, Span), severity, additionalLocations: null, properties: null, args);
    }
}
