using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace ProcessPools.Jobs;

/// <summary>Where an assembly was loaded from, when it was loaded from a file.</summary>
internal static class AssemblyLocation
{
    /// <summary>The assembly's path, or <see langword="null"/> in a single-file or Native AOT application, where assemblies have none.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty location is expected there and read as 'no path'.")]
    public static string? Of(Assembly assembly) => assembly.Location is { Length: > 0 } location ? location : null;
}
