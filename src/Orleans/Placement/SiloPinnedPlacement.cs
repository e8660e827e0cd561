using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace ProcessPools.Orleans.Placement;

/// <summary>
/// Places a grain on the silo its key names (<c>"{silo}|{rest}"</c>), and nowhere else: the front end chooses the silo
/// (by free capacity), Orleans only routes. A silo that left the cluster cannot be chosen, so a call to it fails at once.
/// </summary>
internal sealed class SiloPinnedPlacementStrategy : PlacementStrategy
{
    public static readonly SiloPinnedPlacementStrategy Instance = new();
}

/// <summary>Marks a grain placed by <see cref="SiloPinnedPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacementStrategy.Instance);

/// <summary>Chooses the silo named in the grain's key.</summary>
internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        var silo = SiloOf(key);
        foreach (var compatible in context.GetCompatibleSilos(target))
        {
            if (compatible.Equals(silo))
            {
                return Task.FromResult(silo);
            }
        }

        throw new SiloUnavailableException($"The silo {silo} that grain '{key}' is pinned to {NotPlaceable}.");
    }

    /// <summary>What a placement failure says: the call never reached the silo, so the front end sends it elsewhere freely.</summary>
    public const string NotPlaceable = "is not an active member of the cluster (or does not run the process pool's grain) as the silo placing it sees the cluster";

    /// <summary>The key of the grain pinned to <paramref name="silo"/> for <paramref name="rest"/>.</summary>
    public static string KeyOf(SiloAddress silo, string rest) => $"{silo.ToParsableString()}|{rest}";

    public static SiloAddress SiloOf(string key)
    {
        var separator = key.IndexOf('|', StringComparison.Ordinal);
        return separator > 0
            ? SiloAddress.FromParsableString(key[..separator])
            : throw new ArgumentException($"The grain key '{key}' names no silo.", nameof(key));
    }

    public static string RestOf(string key) => key[(key.IndexOf('|', StringComparison.Ordinal) + 1)..];
}
