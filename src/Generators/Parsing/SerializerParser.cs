using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ProcessPools.Generators.Model;

namespace ProcessPools.Generators.Parsing;

/// <summary>
/// Finds the serializer classes a worker must create without reflection: concrete <c>IJobSerializer</c>
/// implementations with a public parameterless constructor.
/// </summary>
internal static class SerializerParser
{
    /// <summary>
    /// The syntax-only filter, so that only a few classes are resolved: one whose base list names a type ending in
    /// "Serializer" (<c>IJobSerializer</c>, <c>JsonJobSerializer</c>, or a serializer base class of the application's).
    /// A serializer whose base list names none is created by reflection, as before the generator.
    /// </summary>
    public static bool IsCandidate(SyntaxNode node, CancellationToken token) =>
        node is ClassDeclarationSyntax { BaseList: { } bases } && bases.Types.Any(t => SimpleName(t.Type)?.EndsWith("Serializer", System.StringComparison.Ordinal) == true);

    public static RegistrationSpec? Parse(GeneratorSyntaxContext context, CancellationToken token)
    {
        var model = context.SemanticModel;
        if (model.GetDeclaredSymbol((ClassDeclarationSyntax)context.Node, token) is not INamedTypeSymbol type
            || type.IsAbstract || type.IsGenericType || !Symbols.IsNameable(type, model.Compilation)
            || !type.InstanceConstructors.Any(c => c.Parameters.IsEmpty && c.DeclaredAccessibility == Accessibility.Public))
        {
            return null;
        }

        var serializer = model.Compilation.GetTypeByMetadataName("ProcessPools.IJobSerializer");
        return type.AllInterfaces.Any(i => KnownTypes.Is(i, serializer))
            ? new RegistrationSpec(RegistrationKind.Serializer, new[] { Symbols.Render(type) }.ToEquatableArray())
            : null;
    }

    private static string? SimpleName(TypeSyntax type) => type switch
    {
        SimpleNameSyntax simple => simple.Identifier.ValueText,
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
        _ => null,
    };
}
