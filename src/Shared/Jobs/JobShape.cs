using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ProcessPools.Jobs;

/// <summary>
/// The rules of a job's signature, as the caller's side checks them and the worker binds them: which
/// parameters the worker supplies, what a job returns, and how a delegate is named. Compiled into each
/// assembly that needs it, so both sides read a signature the same way.
/// </summary>
internal static class JobShape
{
    /// <summary>Why the reflection path cannot be trimmed or compiled ahead of time, as the warning at the caller says it.</summary>
    public const string ReflectionPath =
        "A job or callback named by reflection is resolved in the worker by metadata and called through MethodInfo, which trimming and Native AOT break. " +
        "Pass a static method or a static lambda directly at the call (ApplyAsync, Map, StarMap, WorkerProcess.StartAsync, ConfigureWorkerHost) so that ProcessPool's source generator names it at compile time.";

    /// <summary>The error of a job method that returned null instead of a task.</summary>
    public static InvalidOperationException NullTask(string jobName) => new($"Job '{jobName}' returned a null task.");

    /// <summary>Whether the worker supplies a parameter of this type instead of the caller.</summary>
    public static bool IsBoundInChild(Type parameterType) =>
        parameterType == typeof(CancellationToken) || parameterType == typeof(IServiceProvider);

    /// <summary>The <c>T</c> of an <see cref="IProgress{T}"/> parameter, or <see langword="null"/>.</summary>
    public static Type? ProgressValueType(Type parameterType) =>
        parameterType.IsGenericType && parameterType.GetGenericTypeDefinition() == typeof(IProgress<>) ? parameterType.GetGenericArguments()[0] : null;

    /// <summary>The result type of a job returning <c>Task</c>, <c>Task&lt;T&gt;</c>, <c>ValueTask</c> or <c>ValueTask&lt;T&gt;</c> (<see cref="void"/> for none); <see langword="null"/> for anything else.</summary>
    public static Type? ResultTypeOf(Type returnType)
    {
        if (returnType == typeof(Task) || returnType == typeof(ValueTask))
        {
            return typeof(void);
        }

        if (returnType.IsGenericType)
        {
            var definition = returnType.GetGenericTypeDefinition();
            if (definition == typeof(Task<>) || definition == typeof(ValueTask<>))
            {
                return returnType.GetGenericArguments()[0];
            }
        }

        return null;
    }

    /// <summary>A type's name as the user wrote it: a lambda's compiler-generated class is named after the type that holds the lambda.</summary>
    public static string Describe(Type? type)
    {
        if (type is null)
        {
            return "<global>";
        }

        while (type.DeclaringType is not null && type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false))
        {
            type = type.DeclaringType;
        }

        return type.FullName ?? type.Name;
    }

    /// <summary>
    /// The method of a delegate that a worker process can rebuild from its identity alone: a static method or
    /// a lambda that captures nothing.
    /// </summary>
    /// <param name="callback">The delegate.</param>
    /// <param name="paramName">The caller's parameter, named in the exception.</param>
    /// <param name="role">What the delegate is, in the message: "job", "worker host configurator".</param>
    /// <param name="advice">What to do instead of capturing, in plain words, for this call site.</param>
    /// <exception cref="ArgumentException">The delegate combines several methods, captures variables, or is bound to an instance.</exception>
    [RequiresUnreferencedCode("Reads the fields of a lambda's closure class to name what it captures.")]
    public static MethodInfo StaticMethodOf(Delegate callback, string paramName, string role, string advice)
    {
        ArgumentNullException.ThrowIfNull(callback, paramName);
        if (callback.HasSingleTarget is false)
        {
            throw new ArgumentException($"The {role} must be a single method; this delegate combines several.", paramName);
        }

        var method = callback.Method;
        if (callback.Target is not { } target)
        {
            return method;
        }

        var type = target.GetType();
        var name = $"{Describe(method.DeclaringType)}.{method.Name}";
        if (type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false))
        {
            var captured = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            if (captured.Length == 0)
            {
                return method; // a non-capturing lambda: the compiler's singleton closure holds nothing.
            }

            var names = CapturedNames(type, depth: 0).Distinct().ToArray();
            throw new ArgumentException(
                $"The {role} in '{Describe(method.DeclaringType)}' captures {Quote(names)} from the code around it; a worker process runs it " +
                $"without that code, so it cannot see {(names.Length == 1 ? "it" : "them")}. {advice}", paramName);
        }

        throw new ArgumentException(
            $"The {role} '{name}' is an instance method of {Describe(type)}; the instance cannot cross into a worker process. {advice}", paramName);
    }

    private static string Quote(string[] names) => names.Length switch
    {
        0 => "variables",
        1 => $"'{names[0]}'",
        _ => $"{string.Join(", ", names[..^1].Select(n => $"'{n}'"))} and '{names[^1]}'",
    };

    /// <summary>
    /// The user's names for what a closure holds. The compiler names a captured variable after itself (or
    /// '&lt;x&gt;5__2' when hoisted), a captured 'this' '&lt;&gt;4__this', an enclosing scope's closure
    /// '&lt;&gt;8__locals1' (whose variables are captured too), and caches nested lambdas in '&lt;&gt;9__1', which hold no state.
    /// </summary>
    [RequiresUnreferencedCode("Reads the fields of a lambda's closure class.")]
    private static IEnumerable<string> CapturedNames(Type closure, int depth)
    {
        foreach (var field in closure.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            var name = field.Name;
            if (name.StartsWith("<>4__this", StringComparison.Ordinal))
            {
                yield return "this";
            }
            else if (name.StartsWith("<>8__locals", StringComparison.Ordinal) && depth < 8)
            {
                foreach (var outer in CapturedNames(field.FieldType, depth + 1))
                {
                    yield return outer;
                }
            }
            else if (!name.StartsWith("<>", StringComparison.Ordinal))
            {
                yield return name.StartsWith('<') && name.IndexOf('>', StringComparison.Ordinal) is > 1 and var end ? name[1..end] : name;
            }
        }
    }
}
