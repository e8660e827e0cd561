using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace ProcessPools.Generators;

/// <summary>
/// A job's signature as the worker binds it: each parameter sent by the caller, or bound in the worker
/// (<c>CancellationToken</c>, <c>IServiceProvider</c>), and what it returns. Jobs that report progress are left
/// to the reflection path.
/// </summary>
internal sealed class Shape
{
    private const string Invoker = "global::ProcessPools.Generated.GeneratedInvoker";

    private readonly List<string> _arguments = [];
    private bool _scoped;
    private bool _returnsValueTask;

    private Shape()
    {
    }

    /// <summary>Gets the types of the sent parameters, in order.</summary>
    public List<ITypeSymbol> Sent { get; } = [];

    /// <summary>Gets the result type, or null for a job that returns <c>Task</c> or <c>ValueTask</c>.</summary>
    public ITypeSymbol? Result { get; private set; }

    private bool TakesToken { get; set; }

    public static Shape? Of(IMethodSymbol invoke)
    {
        var shape = new Shape();
        foreach (var parameter in invoke.Parameters)
        {
            // Ref parameters never get here: CallSites refuses them before it asks for a shape.
            switch (parameter.Type.ToDisplayString())
            {
                case "System.Threading.CancellationToken":
                    shape._arguments.Add("cancellationToken");
                    shape.TakesToken = true;
                    break;
                case "System.IServiceProvider":
                    shape._arguments.Add("services");
                    shape._scoped = true;
                    break;
                default:
                    if (parameter.Type is INamedTypeSymbol { IsGenericType: true } generic && generic.MetadataName == "IProgress`1" && generic.ContainingNamespace.ToDisplayString() == "System")
                    {
                        return null;
                    }

                    shape._arguments.Add($"({CallSites.Render(parameter.Type)})arguments[{shape.Sent.Count}]");
                    shape.Sent.Add(parameter.Type);
                    break;
            }
        }

        var returnType = invoke.ReturnType as INamedTypeSymbol;
        switch (returnType?.OriginalDefinition.ToDisplayString())
        {
            case "System.Threading.Tasks.Task":
                break;
            case "System.Threading.Tasks.ValueTask":
                shape._returnsValueTask = true;
                break;
            case "System.Threading.Tasks.Task<TResult>":
                shape.Result = returnType!.TypeArguments[0];
                break;
            case "System.Threading.Tasks.ValueTask<TResult>":
                shape.Result = returnType!.TypeArguments[0];
                shape._returnsValueTask = true;
                break;
            default:
                return null;
        }

        return shape;
    }

    /// <summary>
    /// The invoker over the delegate <c>job</c>: the typed one-argument form when the job has it (one sent argument,
    /// then at most a token, and a result), the general form otherwise.
    /// </summary>
    public string InvokerExpression(string nameLiteral)
    {
        var isUnary = Sent.Count == 1 && Result is not null && !_scoped && _arguments[0].StartsWith("(", System.StringComparison.Ordinal)
            && (_arguments.Count == 1 || (_arguments.Count == 2 && TakesToken));
        if (isUnary)
        {
            var call = TakesToken ? "job(argument, cancellationToken)" : "job(argument)";
            var body = _returnsValueTask ? call : $"{Invoker}.Await({call}, {nameLiteral})";
            return $"{Invoker}.Unary<{CallSites.Render(Sent[0])}, {CallSites.Render(Result!)}>((argument, cancellationToken) => {body})";
        }

        var invocation = $"job({string.Join(", ", _arguments)})";
        var boxed = _returnsValueTask ? $"{Invoker}.Box({invocation})" : $"{Invoker}.Box({invocation}, {nameLiteral})";
        return $"{Invoker}.Create({(_scoped ? "true" : "false")}, (arguments, services, cancellationToken) => {boxed})";
    }
}
