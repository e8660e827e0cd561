using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ProcessPools.Generators.Model;

namespace ProcessPools.Generators.Parsing;

/// <summary>
/// Reads the job (or worker host configurator) a call passes: where its code is, what it takes and returns. Either a
/// <see cref="JobSpec"/>, or the diagnostic that says why the call stays on the reflection path or is certain to fail.
/// </summary>
internal static class JobReader
{
    /// <summary>Reads the callback argument <paramref name="value"/> of a call of <paramref name="called"/>.</summary>
    /// <returns>The job; or null with <paramref name="refusal"/> set (or not, for a null literal, which the call itself refuses).</returns>
    public static JobSpec? Read(CallKind kind, IMethodSymbol called, IOperation value, SemanticModel model, KnownTypes known, CancellationToken token, out DiagnosticInfo? refusal)
    {
        refusal = null;
        var role = kind == CallKind.ConfigureHost ? "worker host configurator" : "job";
        var compilation = model.Compilation;
        if (value is not IDelegateCreationOperation { Type: INamedTypeSymbol delegateType } creation)
        {
            if (value.ConstantValue is not { HasValue: true, Value: null })
            {
                refusal = DiagnosticInfo.Create(Diagnostics.DelegateNotAtCall, value.Syntax.GetLocation(), role, called.Name);
            }

            return null;
        }

        // The code's own signature, not the delegate type the call inferred (a method group converts to a delegate
        // whose parameters may be narrower than the method's).
        IMethodSymbol code;
        switch (creation.Target)
        {
            case IAnonymousFunctionOperation lambda:
                if (Captured(model, lambda, token) is { } captured)
                {
                    refusal = DiagnosticInfo.Create(Diagnostics.CapturingLambda, lambda.Syntax.GetLocation(), role, captured);
                    return null;
                }

                code = lambda.Symbol;
                break;
            case IMethodReferenceOperation reference when !reference.Method.IsStatic:
                refusal = DiagnosticInfo.Create(Diagnostics.InstanceMethod, value.Syntax.GetLocation(), role, Symbols.Describe(reference.Method));
                return null;
            case IMethodReferenceOperation reference:
                code = reference.Method;
                break;
            default:
                refusal = DiagnosticInfo.Create(Diagnostics.DelegateNotAtCall, value.Syntax.GetLocation(), role, called.Name);
                return null;
        }

        var name = NameOf(code, value);
        if (Symbols.IsInGeneric(code))
        {
            refusal = DiagnosticInfo.Create(Diagnostics.Generic, value.Syntax.GetLocation(), role, name);
            return null;
        }

        if (kind != CallKind.ConfigureHost && code.Parameters.Any(p => KnownTypes.Is(p.Type, known.Progress)))
        {
            refusal = DiagnosticInfo.Create(Diagnostics.ReportsProgress, value.Syntax.GetLocation(), name);
            return null;
        }

        if ((Symbols.FirstUnnameable(code, compilation) ?? Symbols.FirstUnnameable(called, compilation)) is { } unnameable)
        {
            refusal = DiagnosticInfo.Create(Diagnostics.Inaccessible, value.Syntax.GetLocation(), role, name, Symbols.Describe(unnameable));
            return null;
        }

        ShapeSpec? shape = null;
        if (kind != CallKind.ConfigureHost && (shape = ShapeOf(code, known)) is null)
        {
            refusal = DiagnosticInfo.Create(Diagnostics.NotInterceptable, value.Syntax.GetLocation(), called.Name, role);
            return null;
        }

        // A host configurator keeps its Action<IHostApplicationBuilder>; a job is called through a Func of its own signature.
        var boundAs = kind == CallKind.ConfigureHost
            ? Symbols.Render(delegateType)
            : $"global::System.Func<{string.Join(", ", code.Parameters.Select(p => Symbols.Render(p.Type)).Append(Symbols.Render(code.ReturnType)))}>";

        // Where the code is: a method generated code can call directly, or one a worker finds by the compiler's names
        // inside the type that holds it (a private method, a local function, a lambda).
        string? direct = null;
        var holder = Symbols.EnclosingType(code);
        if (code.MethodKind == MethodKind.Ordinary && Symbols.IsNameable(code, compilation))
        {
            direct = $"{Symbols.Render(code.ContainingType)}.{code.Name}";
            holder = null;
        }
        else if (holder is null || !Symbols.IsNameable(holder, compilation))
        {
            refusal = DiagnosticInfo.Create(Diagnostics.Inaccessible, value.Syntax.GetLocation(), role, name, holder is null ? name : Symbols.Describe(holder));
            return null;
        }

        return new JobSpec(IdOf(code, value), name, boundAs, direct, holder is null ? null : Symbols.Render(holder), shape);
    }

    /// <summary>The job's signature as the worker calls it; null for one no overload could have accepted.</summary>
    private static ShapeSpec? ShapeOf(IMethodSymbol code, KnownTypes known)
    {
        var arguments = code.Parameters.Select(p =>
            KnownTypes.Is(p.Type, known.CancellationToken) ? new ArgumentSpec(ArgumentSource.Token, null, null)
            : KnownTypes.Is(p.Type, known.ServiceProvider) ? new ArgumentSpec(ArgumentSource.Services, null, null)
            : new ArgumentSpec(ArgumentSource.Sent, Symbols.Render(p.Type), Symbols.RenderRuntime(p.Type))).ToEquatableArray();
        var returned = code.ReturnType as INamedTypeSymbol;
        if (KnownTypes.Is(returned, known.Task) || KnownTypes.Is(returned, known.ValueTask))
        {
            return new ShapeSpec(arguments, null, null, KnownTypes.Is(returned, known.ValueTask));
        }

        if (KnownTypes.Is(returned, known.TaskOfT) || KnownTypes.Is(returned, known.ValueTaskOfT))
        {
            var result = returned!.TypeArguments[0];
            return new ShapeSpec(arguments, Symbols.Render(result), Symbols.RenderRuntime(result), KnownTypes.Is(returned, known.ValueTaskOfT));
        }

        return null;
    }

    /// <summary>What a lambda captures, worded as the runtime's refusal words it; null when it captures nothing.</summary>
    private static string? Captured(SemanticModel model, IAnonymousFunctionOperation lambda, CancellationToken token)
    {
        if (lambda.Symbol.IsStatic)
        {
            return null;
        }

        var flow = model.AnalyzeDataFlow(lambda.Syntax);
        token.ThrowIfCancellationRequested();
        if (flow is not { Succeeded: true })
        {
            return null;
        }

        // CapturedInside: what lambdas in this region capture (Captured would also name what the code around it
        // captures for lambdas of its own). A variable of the lambda's own, captured by a lambda inside it, is not
        // captured from the code around it.
        var captured = flow.CapturedInside.Where(s => !flow.VariablesDeclared.Contains(s) && !SymbolEqualityComparer.Default.Equals(s.ContainingSymbol, lambda.Symbol)).ToList();
        var names = captured.Where(s => s is not IParameterSymbol { IsThis: true }).Select(s => s.Name).Distinct().ToList();
        if (captured.Any(s => s is IParameterSymbol { IsThis: true }) || flow.ReadInside.Any(s => s is IParameterSymbol { IsThis: true }))
        {
            names.Add("this");
        }

        return names.Count switch
        {
            0 => null,
            1 => $"'{names[0]}'",
            _ => $"{string.Join(", ", names.Take(names.Count - 1).Select(n => $"'{n}'"))} and '{names[names.Count - 1]}'",
        };
    }

    private static string NameOf(IMethodSymbol code, IOperation value)
    {
        if (code.MethodKind is MethodKind.AnonymousFunction or MethodKind.LambdaMethod)
        {
            var span = value.Syntax.GetLocation().GetLineSpan();
            return $"{Symbols.EnclosingType(code)?.ToDisplayString()} lambda ({System.IO.Path.GetFileName(span.Path)}:{span.StartLinePosition.Line + 1})";
        }

        return $"{code.ContainingType.ToDisplayString()}.{code.Name}";
    }

    private static string IdOf(IMethodSymbol code, IOperation value)
    {
        if (code.MethodKind is MethodKind.AnonymousFunction or MethodKind.LambdaMethod)
        {
            var span = value.Syntax.GetLocation().GetLineSpan();
            var file = System.IO.Path.GetFileName(span.Path);
            return $"L:{Symbols.EnclosingType(code)?.ToDisplayString()}@{file}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}:{Symbols.Hash(span.Path)}";
        }

        return $"M:{code.ContainingSymbol.ToDisplayString()}.{code.Name}({string.Join(",", code.Parameters.Select(p => p.Type.ToDisplayString()))})";
    }
}
