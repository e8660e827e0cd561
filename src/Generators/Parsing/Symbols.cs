using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;

namespace ProcessPools.Generators.Parsing;

/// <summary>What the parser asks of symbols: how generated code writes a type, and whether it can name it.</summary>
internal static class Symbols
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>The type as generated code writes it in a signature or a cast, nullable annotations kept.</summary>
    public static string Render(ITypeSymbol type) => type.ToDisplayString(TypeFormat);

    /// <summary>The type as generated code writes it in <c>typeof</c>, where a nullable reference annotation is not allowed.</summary>
    public static string RenderRuntime(ITypeSymbol type) =>
        type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    /// <summary>The type of a symbol, or the symbol, for messages: <c>Namespace.Type.Method</c>.</summary>
    public static string Describe(ISymbol symbol) => symbol.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);

    /// <summary>The first type in <paramref name="symbol"/>'s signature that generated code in another file cannot name, if any.</summary>
    public static ITypeSymbol? FirstUnnameable(IMethodSymbol symbol, Compilation compilation) =>
        symbol.Parameters.Select(p => p.Type).Append(symbol.ReturnType).FirstOrDefault(t => !IsNameable(t, compilation));

    /// <summary>Whether generated code in another file of the same assembly can name <paramref name="symbol"/>.</summary>
    public static bool IsNameable(ISymbol symbol, Compilation compilation) => symbol switch
    {
        ITypeParameterSymbol => false,
        IArrayTypeSymbol array => IsNameable(array.ElementType, compilation),
        INamedTypeSymbol { IsAnonymousType: true } => false,
        INamedTypeSymbol { IsFileLocal: true } => false,
        INamedTypeSymbol named => compilation.IsSymbolAccessibleWithin(named.OriginalDefinition, compilation.Assembly)
            && named.TypeArguments.All(t => IsNameable(t, compilation))
            && (named.ContainingType is null || IsNameable(named.ContainingType, compilation)),
        ITypeSymbol type => type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Error),
        _ => compilation.IsSymbolAccessibleWithin(symbol, compilation.Assembly) && (symbol.ContainingType is null || IsNameable(symbol.ContainingType, compilation)),
    };

    /// <summary>The nearest type that contains <paramref name="symbol"/> (a lambda's or local function's holder).</summary>
    public static INamedTypeSymbol? EnclosingType(ISymbol symbol)
    {
        for (var current = symbol.ContainingSymbol; current is not null; current = current.ContainingSymbol)
        {
            if (current is INamedTypeSymbol type)
            {
                return type;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="symbol"/> is generic, or sits inside a generic method or type.</summary>
    public static bool IsInGeneric(ISymbol symbol)
    {
        for (var current = symbol; current is not null; current = current.ContainingSymbol)
        {
            if (current is IMethodSymbol { IsGenericMethod: true } or INamedTypeSymbol { IsGenericType: true })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A short, stable digest of a file path, which keeps lambda ids of files of the same name apart.</summary>
    public static string Hash(string text)
    {
        using var sha = SHA256.Create();
        var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
        return string.Concat(bytes.Take(4).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
