using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ProcessPools.Generators;

/// <summary>
/// The trim analyzer reads a call's source, not the interceptor the compiler substitutes for it, so it warns
/// (IL2026, IL3050) at calls of the reflection-path overloads that the generator did intercept. This
/// suppresses exactly those: a warning stays wherever the compiler reports no interceptor for the call.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InterceptedCallSuppressor : DiagnosticSuppressor
{
    private static readonly SuppressionDescriptor UnreferencedCode = new(
        "PPSUP001", "IL2026", "ProcessPool's source generator intercepts this call and names its job at compile time: no reflection runs.");

    private static readonly SuppressionDescriptor DynamicCode = new(
        "PPSUP002", "IL3050", "ProcessPool's source generator intercepts this call and names its job at compile time: no code is generated at run time.");

    /// <inheritdoc />
    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions => [UnreferencedCode, DynamicCode];

    /// <inheritdoc />
    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            if (diagnostic.Location.SourceTree is not { } tree)
            {
                continue;
            }

            var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var invocation = node.AncestorsAndSelf().OfType<InvocationExpressionSyntax>().FirstOrDefault();
            if (invocation is null)
            {
                continue;
            }

            var model = context.GetSemanticModel(tree);
            if (model.GetInterceptorMethod(invocation, context.CancellationToken) is not { } interceptor
                || interceptor.ContainingNamespace?.ToDisplayString() != "ProcessPools.Generated")
            {
                continue;
            }

            context.ReportSuppression(Suppression.Create(diagnostic.Id == "IL2026" ? UnreferencedCode : DynamicCode, diagnostic));
        }
    }
}
