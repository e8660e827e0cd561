using System;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace ProcessPools.Generators;

/// <summary>Reads one call site (or class) and renders what the generator emits for it; null when it cannot name it.</summary>
internal static class CallSites
{
    private const string Registry = "global::ProcessPools.Generated.GeneratedRegistry";
    private const string Invoker = "global::ProcessPools.Generated.GeneratedInvoker";
    private const string Calls = "global::ProcessPools.Generated.GeneratedCalls";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    public static Site? Read(GeneratorSyntaxContext context, CancellationToken token)
    {
        var invocation = (InvocationExpressionSyntax)context.Node;
        if (context.SemanticModel.GetOperation(invocation, token) is not IInvocationOperation operation)
        {
            return null;
        }

        var method = operation.TargetMethod;
        var container = method.ContainingType?.ToDisplayString();
        var compilation = context.SemanticModel.Compilation;
        switch (method.Name)
        {
            case "AddJob" or "AddWorkerInitializer" or "AddJobExceptionHandler" when container == "Microsoft.Extensions.DependencyInjection.ProcessPoolBuilderExtensions":
                return ReadRegistration(method, compilation);
            case "ConfigureWorkerHost" when container == "Microsoft.Extensions.DependencyInjection.ProcessPoolBuilderExtensions":
            case "ApplyAsync" or "Map" or "StarMap" when container == "ProcessPools.ProcessPoolExtensions":
            case "StartAsync" when container == "ProcessPools.WorkerProcess":
                return ReadCall(context.SemanticModel, invocation, operation, token);
            default:
                return null;
        }
    }

    /// <summary>A serializer class the worker must create: a concrete IJobSerializer with a public parameterless constructor.</summary>
    public static string? ReadSerializer(GeneratorSyntaxContext context, CancellationToken token)
    {
        if (context.SemanticModel.GetDeclaredSymbol((ClassDeclarationSyntax)context.Node, token) is not INamedTypeSymbol type
            || type.IsAbstract || type.IsGenericType || !IsAccessible(type, context.SemanticModel.Compilation)
            || !type.AllInterfaces.Any(i => i.ToDisplayString() == "ProcessPools.IJobSerializer")
            || !type.InstanceConstructors.Any(c => c.Parameters.IsEmpty && c.DeclaredAccessibility == Accessibility.Public))
        {
            return null;
        }

        return $"{Registry}.AddSerializer<{Render(type)}>();";
    }

    private static Site? ReadRegistration(IMethodSymbol method, Compilation compilation)
    {
        if (method.TypeArguments.Length != 1 || method.TypeArguments[0] is not INamedTypeSymbol type || type.IsGenericType && type.TypeArguments.Any(t => t is ITypeParameterSymbol)
            || !IsAccessible(type, compilation) || type.IsAbstract)
        {
            return null;
        }

        switch (method.Name)
        {
            case "AddJob":
                var contract = type.AllInterfaces.FirstOrDefault(i => i.OriginalDefinition.ToDisplayString() == "ProcessPools.IProcessJob<TArgument, TResult>");
                if (contract is null || contract.TypeArguments.Any(t => !IsAccessible(t, compilation)))
                {
                    return null;
                }

                return new Site(null, $"{Registry}.AddJobClass<{Render(type)}, {Render(contract.TypeArguments[0])}, {Render(contract.TypeArguments[1])}>();");
            case "AddWorkerInitializer":
                return new Site(null, $"{Registry}.AddWorkerInitializer<{Render(type)}>();");
            default:
                return new Site(null, $"{Registry}.AddJobExceptionHandler<{Render(type)}>();");
        }
    }

    private static Site? ReadCall(SemanticModel model, InvocationExpressionSyntax invocation, IInvocationOperation operation, CancellationToken token)
    {
        var method = operation.TargetMethod;
        var callbackName = method.Name == "ConfigureWorkerHost" ? "configure" : "job";
        var argument = operation.Arguments.FirstOrDefault(a => a.Parameter?.Name == callbackName);
        if (argument?.Value is not IDelegateCreationOperation { Type: INamedTypeSymbol } creation
            || method.Parameters.Any(p => !IsAccessible(p.Type, model.Compilation)) || !IsAccessible(method.ReturnType, model.Compilation))
        {
            return null;
        }

        // The job's own signature, not the delegate type the call inferred (a method group converts to a delegate
        // whose parameters may be narrower, such as a RecordingProgress<T> for the job's IProgress<T>).
        var code = creation.Target switch
        {
            IMethodReferenceOperation reference => reference.Method,
            IAnonymousFunctionOperation function => function.Symbol,
            _ => null,
        };
        if (code is null || code.Parameters.Any(p => p.RefKind != RefKind.None || !IsAccessible(p.Type, model.Compilation)) || !IsAccessible(code.ReturnType, model.Compilation)
            || (code.ReturnsVoid && method.Name != "ConfigureWorkerHost"))
        {
            return null;
        }

        // A host configurator keeps its Action<IHostApplicationBuilder>; a job is called through a Func of its own signature.
        var delegateType = method.Name == "ConfigureWorkerHost"
            ? Render(creation.Type!)
            : $"global::System.Func<{string.Join(", ", code.Parameters.Select(p => Render(p.Type)).Append(Render(code.ReturnType)))}>";

        // Where the code is: a static method (called directly when the generated code can name it), or a lambda that
        // captures nothing (found in the worker by the compiler's names, inside the type that holds it).
        string bind;
        string id;
        string name;
        switch (creation.Target)
        {
            case IMethodReferenceOperation { Method: { IsStatic: true } target } when !IsInGeneric(target):
                name = $"{target.ContainingType.ToDisplayString()}.{target.Name}";
                id = $"M:{target.ContainingSymbol.ToDisplayString()}.{target.Name}({string.Join(",", target.Parameters.Select(p => p.Type.ToDisplayString()))})";
                if (target.MethodKind == MethodKind.Ordinary && IsAccessible(target, model.Compilation))
                {
                    bind = $"new {delegateType}({Render(target.ContainingType)}.{target.Name})";
                }
                else if (EnclosingType(target) is { } holder && IsAccessible(holder, model.Compilation))
                {
                    // A private method, or a local function (compiled into the enclosing type under a name of the compiler's).
                    bind = $"{Registry}.Bind<{delegateType}>(typeof({Render(holder)}), site)";
                }
                else
                {
                    return null;
                }

                break;
            case IAnonymousFunctionOperation lambda when CapturesNothing(model, lambda, token) && EnclosingType(lambda.Symbol) is { } enclosing
                && IsAccessible(enclosing, model.Compilation) && !IsInGeneric(lambda.Symbol):
                var span = lambda.Syntax.GetLocation().GetLineSpan();
                name = $"{enclosing.ToDisplayString()} lambda ({System.IO.Path.GetFileName(span.Path)}:{span.StartLinePosition.Line + 1})";
                id = $"L:{enclosing.ToDisplayString()}@{System.IO.Path.GetFileName(span.Path)}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}:{Hash(span.Path)}";
                bind = $"{Registry}.Bind<{delegateType}>(typeof({Render(enclosing)}), site)";
                break;
            default:
                return null;
        }

        if (model.GetInterceptableLocation(invocation, token) is not { } location)
        {
            return null;
        }

        var attribute = $"[global::System.Runtime.CompilerServices.InterceptsLocation({location.Version}, \"{location.Data}\")]";
        if (method.Name == "ConfigureWorkerHost")
        {
            var configurator = $"{Registry}.AddHostConfigurator({Literal(id)}, static site => {bind});";
            var call = $"global::Microsoft.Extensions.DependencyInjection.ProcessPoolBuilderExtensions.ConfigureGeneratedWorkerHost({method.Parameters[0].Name}, {Literal(id)}, {Literal(name)}, {callbackName})";
            return new Site(Interceptor(method, attribute, field: null, call), configurator);
        }

        if (Shape.Of(code) is not { } shape)
        {
            return null;
        }

        var registration = $"{Registry}.AddJob(new global::ProcessPools.Generated.GeneratedJob({Literal(id)}, {Literal(name)}, new global::System.Type[] {{ {string.Join(", ", shape.Sent.Select(t => $"typeof({Render(t, nullable: false)})"))} }}, " +
            $"typeof({(shape.Result is null ? "void" : Render(shape.Result, nullable: false))}), static site => {{ var job = {bind}; return {shape.InvokerExpression(Literal(name))}; }}));";
        var cachedTarget = $"s_target__N__ ??= {Registry}.Target({Literal(id)}, {callbackName})";
        var body = JobCall(method, shape, cachedTarget);
        return body is null ? null : new Site(Interceptor(method, attribute, "global::ProcessPools.JobTarget", body), registration);
    }

    /// <summary>The call the interceptor makes instead of the overload: the overload's own work, with the generated target.</summary>
    private static string? JobCall(IMethodSymbol method, Shape shape, string target)
    {
        var parameters = method.Parameters;
        string Name(int i) => parameters[i].Name;
        var sent = parameters.Where(p => p.Name.StartsWith("arg", StringComparison.Ordinal)).Select(p => p.Name).ToArray();
        var token = parameters.Last().Name;
        switch (method.Name)
        {
            case "ApplyAsync":
                var result = ((INamedTypeSymbol)method.ReturnType).TypeArguments.FirstOrDefault();
                var arguments = $"new object?[] {{ {string.Join(", ", sent)} }}";
                return result is null
                    ? $"{Calls}.ApplyVoid({Name(0)}, {target}, {arguments}, {token})"
                    : $"{Calls}.Apply<{Render(result)}>({Name(0)}, {target}, {arguments}, {token})";
            case "Map" or "StarMap":
                var items = (INamedTypeSymbol)parameters[2].Type;
                var item = items.TypeArguments[0];
                var arity = shape.Sent.Count;
                var spread = arity == 1 ? "new object?[] { item }" : $"new object?[] {{ {string.Join(", ", Enumerable.Range(1, arity).Select(i => $"item.Item{i}"))} }}";
                var mapResult = ((INamedTypeSymbol)method.ReturnType).TypeArguments[0];
                return $"{Calls}.Map<{Render(item)}, {Render(mapResult)}>({Name(0)}, {target}, {arity}, {Name(2)}, static item => {spread}, {token})";
            case "StartAsync":
                var worker = (INamedTypeSymbol)((INamedTypeSymbol)method.ReturnType).TypeArguments[0];
                var workerResult = worker.TypeArguments[0];
                var configure = parameters.First(p => p.Name == "configure").Name;
                var configureWorker = parameters.First(p => p.Name == "configureWorker").Name;
                return $"global::ProcessPools.WorkerProcess.StartGeneratedAsync<{Render(workerResult)}>({target}, new object?[] {{ {string.Join(", ", sent)} }}, {configure}, {configureWorker}, {token})";
            default:
                return null;
        }
    }

    private static string Interceptor(IMethodSymbol method, string attribute, string? field, string body)
    {
        var text = new StringBuilder();
        if (field is not null)
        {
            text.Append("        private static ").Append(field).Append("? s_target__N__;\n\n");
        }

        // IOperation gives an extension method in its static form: the receiver is its first parameter.
        var parameters = method.Parameters.Select((p, i) => $"{(i == 0 && method.IsExtensionMethod ? "this " : string.Empty)}{Render(p.Type)} {p.Name}");
        text.Append("        ").Append(attribute).Append('\n');
        text.Append("        internal static ").Append(Render(method.ReturnType)).Append(" Intercept__N__(").Append(string.Join(", ", parameters)).Append(")\n");
        text.Append("            => ").Append(body).Append(";\n\n");
        return text.ToString();
    }

    private static bool CapturesNothing(SemanticModel model, IAnonymousFunctionOperation lambda, CancellationToken token)
    {
        if (lambda.Symbol.IsStatic)
        {
            return true;
        }

        var flow = model.AnalyzeDataFlow(lambda.Syntax);
        token.ThrowIfCancellationRequested();
        return flow is { Succeeded: true } && flow.Captured.IsEmpty && !flow.ReadInside.Any(s => s is IParameterSymbol { IsThis: true });
    }

    private static INamedTypeSymbol? EnclosingType(ISymbol symbol)
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

    private static bool IsInGeneric(ISymbol symbol)
    {
        for (var current = symbol; current is not null; current = current.ContainingSymbol)
        {
            if (current is IMethodSymbol { IsGenericMethod: true } || current is INamedTypeSymbol { IsGenericType: true })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsAccessible(ISymbol symbol, Compilation compilation) => symbol switch
    {
        ITypeParameterSymbol => false,
        IArrayTypeSymbol array => IsAccessible(array.ElementType, compilation),
        INamedTypeSymbol { IsAnonymousType: true } => false,
        INamedTypeSymbol { IsFileLocal: true } => false, // visible only in its own file, not in the generated one
        INamedTypeSymbol named => compilation.IsSymbolAccessibleWithin(named.OriginalDefinition, compilation.Assembly) && named.TypeArguments.All(t => IsAccessible(t, compilation))
            && (named.ContainingType is null || IsAccessible(named.ContainingType, compilation)),
        ITypeSymbol type => type.TypeKind != TypeKind.Pointer && type.TypeKind != TypeKind.FunctionPointer && type.TypeKind != TypeKind.Error,
        _ => compilation.IsSymbolAccessibleWithin(symbol, compilation.Assembly) && (symbol.ContainingType is null || IsAccessible(symbol.ContainingType, compilation)),
    };

    internal static string Render(ITypeSymbol type, bool nullable = true) =>
        nullable ? type.ToDisplayString(TypeFormat) : type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    private static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);

    private static string Hash(string text)
    {
        using var sha = SHA256.Create();
        var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
        return string.Concat(bytes.Take(4).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
