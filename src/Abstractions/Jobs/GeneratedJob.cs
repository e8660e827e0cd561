using System.ComponentModel;

namespace ProcessPools.Generated;

/// <summary>
/// A job that ProcessPool's source generator found at a call site: its stable id, its shape, and how a worker
/// binds its code. Registered by generated code when the application's assembly loads, in the parent and in
/// every worker alike.
/// </summary>
/// <remarks>
/// Generated code sets its properties by name (<c>new GeneratedJob { Id = ..., Binder = ... }</c>), so a later version
/// can add one without breaking applications compiled against this one.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class GeneratedJob
{
    /// <summary>Gets the id, stable within one build of the application.</summary>
    public required string Id { get; init; }

    /// <summary>Gets the job's readable name (<c>Type.Method</c>, or the type holding the lambda).</summary>
    public required string Name { get; init; }

    /// <summary>Gets the types of the parameters the caller sends, in order.</summary>
    public required IReadOnlyList<Type> SentTypes { get; init; }

    /// <summary>Gets the result type; <see cref="void"/> for none.</summary>
    public required Type ResultType { get; init; }

    /// <summary>Gets what makes the worker's invoker, given where the parent's delegate points.</summary>
    public required Func<GeneratedSite, GeneratedInvoker> Binder { get; init; }

    /// <summary>Makes the invoker a worker calls the job through.</summary>
    /// <param name="site">Where the parent's delegate points (the compiler's names for a lambda).</param>
    public GeneratedInvoker Bind(GeneratedSite site) => Binder(site);
}

/// <summary>
/// Where a delegate's code is, in the compiler's own names: the class and method a lambda was compiled to. The
/// parent reads them from its delegate; a worker (the same build) finds the same method inside the type the
/// generator named. Both are <see langword="null"/> for a method the generated code calls directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class GeneratedSite
{
    /// <summary>Creates a site.</summary>
    /// <param name="declaringType">The full name of the class the compiler put the method in.</param>
    /// <param name="method">The compiled method's name.</param>
    public GeneratedSite(string? declaringType, string? method)
    {
        DeclaringType = declaringType;
        Method = method;
    }

    /// <summary>Gets the full name of the class the compiler put the method in.</summary>
    public string? DeclaringType { get; }

    /// <summary>Gets the compiled method's name.</summary>
    public string? Method { get; }

    /// <summary>The site of a delegate: its method's class and name.</summary>
    public static GeneratedSite Of(Delegate callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var method = callback.Method;
        return new GeneratedSite(method.DeclaringType?.FullName, method.Name);
    }
}
