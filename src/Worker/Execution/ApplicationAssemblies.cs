using System.Reflection;
using System.Runtime.Loader;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Loads the application's assemblies in the child. The child runs with the application's deps.json,
/// but the host adds the application's own assembly to the load list only when it is the app being run
/// (under <c>dotnet test</c>, the test assembly is not): so fall back to the application's folder, then
/// to the path the parent loaded it from.
/// </summary>
internal static class ApplicationAssemblies
{
    public static void EnableFallback() => AssemblyLoadContext.Default.Resolving += static (context, name) =>
    {
        var candidate = Path.Combine(AppContext.BaseDirectory, name.Name + ".dll");
        return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
    };

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
