using System;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ProcessPools.Generators.Model;

namespace ProcessPools.Generators.Parsing;

/// <summary>
/// Reads one invocation into the model: an intercepted call, a registration, or the diagnostic that says why the call
/// keeps the reflection path. Nothing here renders code; the emitter does.
/// </summary>
internal static class CallParser
{
    private static readonly string[] Names = ["ApplyAsync", "Map", "StarMap", "StartAsync", "ConfigureWorkerHost", "AddJob", "AddWorkerInitializer", "AddJobExceptionHandler"];

    /// <summary>The syntax-only filter: a call of one of the method names the generator handles (<c>a.M()</c>, <c>a?.M()</c>, <c>M()</c>).</summary>
    public static bool IsCandidate(SyntaxNode node, CancellationToken token) => node is InvocationExpressionSyntax invocation && invocation.Expression switch
    {
        MemberAccessExpressionSyntax member => Array.IndexOf(Names, member.Name.Identifier.ValueText) >= 0,
        MemberBindingExpressionSyntax binding => Array.IndexOf(Names, binding.Name.Identifier.ValueText) >= 0,
        SimpleNameSyntax name => Array.IndexOf(Names, name.Identifier.ValueText) >= 0,
        _ => false,
    };

    public static SiteModel? Parse(GeneratorSyntaxContext context, CancellationToken token)
    {
        var invocation = (InvocationExpressionSyntax)context.Node;
        if (context.SemanticModel.GetOperation(invocation, token) is not IInvocationOperation operation)
        {
            return ReadUnbound(context, invocation, token);
        }

        var method = operation.TargetMethod;
        var known = new KnownTypes(context.SemanticModel.Compilation);
        var container = method.ContainingType;
        return method.Name switch
        {
            "AddJob" or "AddWorkerInitializer" or "AddJobExceptionHandler" when KnownTypes.Is(container, known.BuilderExtensions)
                => ReadRegistration(method, invocation, context.SemanticModel.Compilation, known),
            "ConfigureWorkerHost" when KnownTypes.Is(container, known.BuilderExtensions) => ReadCall(CallKind.ConfigureHost, context, operation, known, token),
            "ApplyAsync" when KnownTypes.Is(container, known.ProcessPoolExtensions) => ReadCall(CallKind.Apply, context, operation, known, token),
            "Map" or "StarMap" when KnownTypes.Is(container, known.ProcessPoolExtensions) => ReadCall(CallKind.Map, context, operation, known, token),
            "StartAsync" when KnownTypes.Is(container, known.WorkerProcess) => ReadCall(CallKind.StartWorker, context, operation, known, token),
            _ => null,
        };
    }

    private static SiteModel? ReadCall(CallKind kind, GeneratorSyntaxContext context, IInvocationOperation operation, KnownTypes known, CancellationToken token)
    {
        var method = operation.TargetMethod;
        var callbackIndex = method.IsExtensionMethod ? 1 : 0;
        if (method.Parameters.Length <= callbackIndex || operation.Arguments.FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.Parameter, method.Parameters[callbackIndex])) is not { } callback)
        {
            return null;
        }

        var job = JobReader.Read(kind, method, callback.Value, context.SemanticModel, known, token, out var refusal);
        if (job is null)
        {
            return refusal is null ? null : SiteModel.Refused(refusal);
        }

        var invocation = (InvocationExpressionSyntax)context.Node;
        if (context.SemanticModel.GetInterceptableLocation(invocation, token) is not { } location)
        {
            return SiteModel.Refused(DiagnosticInfo.Create(Diagnostics.NotInterceptable, invocation.GetLocation(), method.Name, kind == CallKind.ConfigureHost ? "worker host configurator" : "job"));
        }

        var parameters = method.Parameters.Select((p, i) => new ParameterSpec(Symbols.Render(p.Type), RoleOf(kind, p, i, callbackIndex, known))).ToEquatableArray();
        var signature = new SignatureSpec(Symbols.Render(method.ReturnType), parameters, method.IsExtensionMethod);
        var lines = invocation.GetLocation().GetLineSpan();
        var interception = new InterceptionSpec(location.Version, location.Data, $"{System.IO.Path.GetFileName(lines.Path)}:{lines.StartLinePosition.Line + 1}");

        // The call's own result (Task<T>, PoolResult<T>, Task<WorkerProcess<T>>), and a map's item type.
        var returned = method.ReturnType as INamedTypeSymbol;
        var result = kind switch
        {
            CallKind.Apply or CallKind.Map => returned?.TypeArguments.FirstOrDefault(),
            CallKind.StartWorker => (returned?.TypeArguments.FirstOrDefault() as INamedTypeSymbol)?.TypeArguments.FirstOrDefault(),
            _ => null,
        };
        var item = kind == CallKind.Map ? (method.Parameters[2].Type as INamedTypeSymbol)?.TypeArguments.FirstOrDefault() : null;
        return SiteModel.Intercepted(new CallSpec(kind, interception, signature, job, result is null ? null : Symbols.Render(result), item is null ? null : Symbols.Render(item)));
    }

    /// <summary>
    /// A call of the pool's job methods that did not bind: when its job is a method group whose every method returns a
    /// plain value, says so (PP0003) beside the compiler's error, which names only the conversion that failed.
    /// </summary>
    private static SiteModel? ReadUnbound(GeneratorSyntaxContext context, InvocationExpressionSyntax invocation, CancellationToken token)
    {
        var model = context.SemanticModel;
        var call = model.GetSymbolInfo(invocation, token);
        var known = new KnownTypes(model.Compilation);
        if (call.Symbol is not null || call.CandidateSymbols.IsEmpty || !call.CandidateSymbols.All(c => IsJobMethod(c, known))
            || invocation.ArgumentList.Arguments.FirstOrDefault()?.Expression is not { } job
            || job is LambdaExpressionSyntax or AnonymousMethodExpressionSyntax)
        {
            return null;
        }

        var group = model.GetSymbolInfo(job, token);
        var methods = (group.Symbol is IMethodSymbol one ? [one] : group.CandidateSymbols.OfType<IMethodSymbol>()).ToArray();
        if (methods.Length == 0 || methods.Any(m => m.ReturnsVoid || IsAwaitable(m.ReturnType, known) || m.ReturnType.TypeKind == TypeKind.Error))
        {
            return null;
        }

        return SiteModel.Refused(DiagnosticInfo.Create(Diagnostics.NotAsync, job.GetLocation(), Symbols.Describe(methods[0]), Symbols.Describe(methods[0].ReturnType), call.CandidateSymbols[0].Name));

        static bool IsJobMethod(ISymbol candidate, KnownTypes known) => candidate is IMethodSymbol method && method.Name switch
        {
            "ApplyAsync" or "Map" or "StarMap" => KnownTypes.Is(method.ContainingType, known.ProcessPoolExtensions),
            "StartAsync" => KnownTypes.Is(method.ContainingType, known.WorkerProcess),
            _ => false,
        };

        static bool IsAwaitable(ITypeSymbol type, KnownTypes known) =>
            KnownTypes.Is(type, known.Task) || KnownTypes.Is(type, known.TaskOfT) || KnownTypes.Is(type, known.ValueTask) || KnownTypes.Is(type, known.ValueTaskOfT);
    }

    /// <summary>What a parameter of the intercepted method is for, by its position and type (never by its name).</summary>
    private static ParameterRole RoleOf(CallKind kind, IParameterSymbol parameter, int index, int callbackIndex, KnownTypes known)
    {
        if (index == callbackIndex)
        {
            return ParameterRole.Callback;
        }

        if (index == 0 && callbackIndex == 1)
        {
            return ParameterRole.Receiver;
        }

        if (kind == CallKind.Map && index == 2)
        {
            return ParameterRole.Items;
        }

        return KnownTypes.Is(parameter.Type, known.CancellationToken) ? ParameterRole.Token
            : kind == CallKind.StartWorker && known.IsActionOf(parameter.Type, known.ProcessPoolOptions) ? ParameterRole.ConfigureOptions
            : kind == CallKind.StartWorker && known.IsActionOf(parameter.Type, known.ProcessPoolBuilder) ? ParameterRole.ConfigureWorker
            : ParameterRole.Sent;
    }

    private static SiteModel? ReadRegistration(IMethodSymbol method, InvocationExpressionSyntax invocation, Compilation compilation, KnownTypes known)
    {
        if (method.TypeArguments.Length != 1)
        {
            return null;
        }

        var type = method.TypeArguments[0];
        var location = invocation.GetLocation();
        var why = type switch
        {
            ITypeParameterSymbol => "it is a type parameter, known only at run time",
            INamedTypeSymbol { IsAbstract: true } => "it is abstract",
            INamedTypeSymbol generic when generic.TypeArguments.Any(t => t is ITypeParameterSymbol) => "its type arguments are known only at run time",
            INamedTypeSymbol named when !Symbols.IsNameable(named, compilation) => "code generated in another file cannot name it (private, protected or file-local)",
            INamedTypeSymbol => null,
            _ => "it is not a class",
        };
        if (why is not null)
        {
            return SiteModel.Refused(DiagnosticInfo.Create(Diagnostics.Unregistrable, location, Symbols.Describe(type), why));
        }

        switch (method.Name)
        {
            case "AddJob":
                var contract = type.AllInterfaces.FirstOrDefault(i => KnownTypes.Is(i, known.ProcessJob));
                if (contract is null || contract.TypeArguments.Any(t => !Symbols.IsNameable(t, compilation)))
                {
                    return SiteModel.Refused(DiagnosticInfo.Create(Diagnostics.Unregistrable, location, Symbols.Describe(type), "its IProcessJob<TArgument, TResult> names a type generated code cannot name"));
                }

                return Registration(RegistrationKind.JobClass, type, contract.TypeArguments[0], contract.TypeArguments[1]);
            case "AddWorkerInitializer":
                return Registration(RegistrationKind.WorkerInitializer, type);
            default:
                return Registration(RegistrationKind.JobExceptionHandler, type);
        }
    }

    private static SiteModel Registration(RegistrationKind kind, params ITypeSymbol[] types) =>
        SiteModel.Registered(new RegistrationSpec(kind, types.Select(Symbols.Render).ToEquatableArray()));
}
