using Microsoft.CodeAnalysis;

namespace ProcessPools.Generators;

/// <summary>
/// Why a call stays on the reflection path, or is certain to fail. Each id is documented, with an example and the
/// fix, in docs/diagnostics.md. Ids are never reused.
/// </summary>
internal static class Diagnostics
{
    /// <summary>The category of every ProcessPool diagnostic.</summary>
    public const string Category = "ProcessPool";

    /// <summary>PP0001: a lambda captures a local, a parameter or <c>this</c>; the runtime refuses it on every call.</summary>
    public static readonly DiagnosticDescriptor CapturingLambda = Fails(
        "PP0001",
        "A job or worker host configurator must not capture state",
        "This {0} captures {1} from the code around it; a worker process runs it without that code, so every call fails at run time. Pass the values it needs as arguments, and mark the lambda 'static'.");

    /// <summary>PP0002: an instance method group; the instance cannot cross into a worker.</summary>
    public static readonly DiagnosticDescriptor InstanceMethod = Fails(
        "PP0002",
        "A job or worker host configurator must be a static method",
        "The {0} '{1}' is an instance method; the instance cannot cross into a worker process, so every call fails at run time. Make the method static and pass what it needs as arguments.");

    /// <summary>
    /// PP0003: a method group whose methods return a plain value, passed as a job: the call does not bind, and the
    /// compiler's own error (CS1503, "cannot convert from 'method group'") does not say why.
    /// </summary>
    public static readonly DiagnosticDescriptor NotAsync = Fails(
        "PP0003",
        "A job returns Task, Task<T>, ValueTask or ValueTask<T>",
        "The job '{0}' returns {1}; a job returns Task, Task<T>, ValueTask or ValueTask<T>, so no overload of '{2}' takes it. Return Task.FromResult(...) from it, or make it async.");

    /// <summary>PP0010: the delegate is not written at the call.</summary>
    public static readonly DiagnosticDescriptor DelegateNotAtCall = ReflectionPath(
        "PP0010",
        "The job is a delegate the generator cannot see",
        "The {0} passed to '{1}' is a delegate from a variable, field, property or call, not a method or lambda written at the call; it is named by reflection at run time, which a trimmed or Native AOT application cannot do. Pass the method itself (pool.ApplyAsync(Jobs.Square, x)) or a static lambda.");

    /// <summary>PP0011: a generic method, or code inside a generic type or method.</summary>
    public static readonly DiagnosticDescriptor Generic = ReflectionPath(
        "PP0011",
        "The job is generic",
        "The {0} '{1}' is generic or sits in a generic type or method; generated code cannot name it once for every type argument, so it is named by reflection at run time, which a trimmed or Native AOT application cannot do. Use a non-generic method.");

    /// <summary>PP0012: the job reports progress through <c>IProgress&lt;T&gt;</c>.</summary>
    public static readonly DiagnosticDescriptor ReportsProgress = ReflectionPath(
        "PP0012",
        "The job reports progress",
        "The job '{0}' takes an IProgress<T>; jobs that report progress are named by reflection at run time, which a trimmed or Native AOT application cannot do. Return the progress in the result, or keep this call out of trimmed builds.");

    /// <summary>PP0013: a type the generated code cannot name.</summary>
    public static readonly DiagnosticDescriptor Inaccessible = ReflectionPath(
        "PP0013",
        "The job uses a type generated code cannot name",
        "The {0} '{1}' uses '{2}', which code generated in another file cannot name (private, protected, file-local or anonymous); it is named by reflection at run time, which a trimmed or Native AOT application cannot do. Make the type internal or public.");

    /// <summary>PP0014: a job class, worker initializer or job exception handler that cannot be registered at compile time.</summary>
    public static readonly DiagnosticDescriptor Unregistrable = ReflectionPath(
        "PP0014",
        "The class cannot be registered at compile time",
        "'{0}' cannot be registered by generated code: {1}; a worker creates it by reflection, which a trimmed or Native AOT application cannot do");

    /// <summary>PP0015: the compiler offers no interceptable location for the call.</summary>
    public static readonly DiagnosticDescriptor NotInterceptable = ReflectionPath(
        "PP0015",
        "The call cannot be intercepted",
        "The compiler cannot intercept this call of '{0}', so its {1} is named by reflection at run time, which a trimmed or Native AOT application cannot do. Call the method directly, with the job written at the call.");

    // No help link: the repository has no public address yet, and none is invented. The docs are in the package's repository.
    private const string Description = "ProcessPool's source generator: see docs/diagnostics.md in ProcessPool's repository for each id, with an example and the fix.";

    /// <summary>A call certain to fail at run time: a warning in every build.</summary>
    private static DiagnosticDescriptor Fails(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, description: Description);

    /// <summary>A call left to reflection: information, raised to a warning in a trimmed or Native AOT build (<see cref="BuildKind"/>).</summary>
    private static DiagnosticDescriptor ReflectionPath(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Info, isEnabledByDefault: true, description: Description);
}
