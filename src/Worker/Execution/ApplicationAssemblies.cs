using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.Loader;
using ProcessPools.Jobs;
using ProcessPools.Protocol;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Loads the application's assemblies in the child. The child runs with the application's deps.json,
/// but the host adds the application's own assembly to the load list only when it is the app being run
/// (under <c>dotnet test</c>, the test assembly is not): so fall back to the application's folder, then
/// to the path the parent loaded it from.
/// </summary>
internal static class ApplicationAssemblies
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Loads from the application's own folder an assembly its build references; a trimmed or Native AOT application has every assembly compiled in and never asks.")]
    public static void EnableFallback() => AssemblyLoadContext.Default.Resolving += static (context, name) =>
    {
        var candidate = Path.Combine(AppContext.BaseDirectory, name.Name + ".dll");
        return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
    };

    /// <summary>Loads a type the parent named, trying the parent's path for its assembly when the name alone fails.</summary>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    public static Type LoadType(TypeReference reference, string role)
    {
        var type = Type.GetType(reference.TypeName, throwOnError: false);
        if (type is null && reference.AssemblyPath is not null && File.Exists(reference.AssemblyPath))
        {
            var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(reference.AssemblyPath);
            var fullName = reference.TypeName.Split(',', 2)[0];
            type = assembly.GetType(fullName, throwOnError: false);
        }

        return type ?? throw new InvalidOperationException($"The worker cannot load the {role} type '{reference.TypeName}': is its assembly part of the application?");
    }

    /// <summary>Resolves a static method (or a non-capturing lambda's method) from its identity; checks the parent and child run the same build.</summary>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    public static MethodInfo ResolveMethod(JobDefinition definition)
    {
        var assembly = Load(definition.AssemblyName, definition.AssemblyPath);
        var module = assembly.Modules.FirstOrDefault(m => m.ModuleVersionId == definition.ModuleVersionId)
            ?? throw new InvalidOperationException(
                $"The worker loaded a different build of '{assembly.GetName().Name}' than the parent (module version ids differ), so it cannot resolve '{definition.Name}'. Rebuild and restart the application.");
        return module.ResolveMethod(definition.MetadataToken) as MethodInfo
            ?? throw new InvalidOperationException($"The worker resolved '{definition.Name}' to something that is not a method.");
    }

    /// <summary>The instance a resolved method is called on: none for a static method, the compiler's field-less closure for a lambda.</summary>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    public static object? InstanceFor(MethodInfo method) =>
        method.IsStatic ? null : System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(method.DeclaringType!);

    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    public static Assembly Load(string assemblyName, string? parentPath)
    {
        try
        {
            return Assembly.Load(new AssemblyName(assemblyName));
        }
        catch (FileNotFoundException) when (parentPath is not null && File.Exists(parentPath))
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyPath(parentPath);
        }
    }
}
