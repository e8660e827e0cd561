using System.ComponentModel;

namespace ProcessPools.Generated;

/// <summary>
/// A job that ProcessPool's source generator found at a call site: its stable id, its shape, and how a worker
/// binds its code. Registered by generated code when the application's assembly loads, in the parent and in
/// every worker alike.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class GeneratedJob
{
    private readonly Func<GeneratedSite, GeneratedInvoker> _bind;

    /// <summary>Creates the description of a generated job.</summary>
    /// <param name="id">The id, stable within one build of the application.</param>
    /// <param name="name">The job's readable name (<c>Type.Method</c>, or the type holding the lambda).</param>
    /// <param name="sentTypes">The types of the parameters the caller sends, in order.</param>
    /// <param name="resultType">The result type; <see cref="void"/> for none.</param>
    /// <param name="bind">Makes the worker's invoker, given where the parent's delegate points.</param>
    public GeneratedJob(string id, string name, Type[] sentTypes, Type resultType, Func<GeneratedSite, GeneratedInvoker> bind)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(sentTypes);
        ArgumentNullException.ThrowIfNull(resultType);
        ArgumentNullException.ThrowIfNull(bind);
        Id = id;
        Name = name;
        SentTypes = sentTypes;
        ResultType = resultType;
        _bind = bind;
    }

    /// <summary>Gets the id, stable within one build of the application.</summary>
    public string Id { get; }

    /// <summary>Gets the job's readable name.</summary>
    public string Name { get; }

    /// <summary>Gets the types of the sent parameters, in order.</summary>
    public IReadOnlyList<Type> SentTypes { get; }

    /// <summary>Gets the result type; <see cref="void"/> for none.</summary>
    public Type ResultType { get; }

    /// <summary>Makes the invoker a worker calls the job through.</summary>
    /// <param name="site">Where the parent's delegate points (the compiler's names for a lambda).</param>
    public GeneratedInvoker Bind(GeneratedSite site) => _bind(site);
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
