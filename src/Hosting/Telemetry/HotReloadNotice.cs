using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

[assembly: System.Reflection.Metadata.MetadataUpdateHandler(typeof(ProcessPools.Telemetry.HotReloadNotice))]

namespace ProcessPools.Telemetry;

/// <summary>
/// Says where hot reload stops: <c>dotnet watch</c> (or an IDE) applies an edit to the parent process, but workers
/// cannot receive its deltas and keep running the code they started with, silently ("parent says v2, worker says v1").
/// The runtime calls <see cref="UpdateApplication"/> after each update in this process; each live pool then logs once
/// that its workers run the old code, naming the updated types, and how to restart.
/// </summary>
internal static class HotReloadNotice
{
    private static readonly ConcurrentDictionary<Tracked, bool> Pools = new();

    /// <summary>Tracks a started pool until the returned handle is disposed.</summary>
    public static IDisposable Track(string pool, ILogger logger)
    {
        var tracked = new Tracked(pool, logger);
        Pools[tracked] = false;
        return tracked;
    }

    /// <summary>Called by the runtime before <see cref="UpdateApplication"/>; nothing is cached here.</summary>
    public static void ClearCache(Type[]? updatedTypes)
    {
    }

    /// <summary>Called by the runtime after an update was applied to this process.</summary>
    public static void UpdateApplication(Type[]? updatedTypes)
    {
        var types = updatedTypes is { Length: > 0 }
            ? string.Join(", ", updatedTypes.Select(t => t.FullName ?? t.Name).Distinct().Order(StringComparer.Ordinal).Take(10))
              + (updatedTypes.Length > 10 ? $" and {updatedTypes.Length - 10} more" : string.Empty)
            : "code";
        foreach (var pool in Pools.Keys)
        {
            if (Pools.TryUpdate(pool, true, false))
            {
                Log.HotReloadNotApplied(pool.Logger, pool.Name, types);
            }
        }
    }

    private sealed class Tracked(string name, ILogger logger) : IDisposable
    {
        public string Name => name;

        public ILogger Logger => logger;

        public void Dispose() => Pools.TryRemove(this, out _);
    }
}
