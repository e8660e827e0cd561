using System.Runtime.CompilerServices;

namespace ProcessPools;

/// <summary>
/// The results of a <c>Map</c> or <c>StarMap</c>, which is already running. Consume it once, in one of three ways:
/// <list type="bullet">
/// <item><c>await</c> it: a list of every result, in input order;</item>
/// <item><c>await foreach</c> over it: each result in input order, as soon as it and all before it are done;</item>
/// <item><c>await foreach</c> over <see cref="AsCompleted"/>: <c>(index, result)</c> pairs in completion order.</item>
/// </list>
/// </summary>
/// <typeparam name="T">The jobs' result type.</typeparam>
/// <remarks>
/// The first failed item ends the consumption with its exception and cancels the items not yet done.
/// Stopping an <c>await foreach</c> early cancels the rest as well.
/// </remarks>
public abstract class PoolResult<T> : IAsyncEnumerable<T>
{
    /// <summary>Gets an awaiter for the list of all results in input order.</summary>
    public TaskAwaiter<IReadOnlyList<T>> GetAwaiter() => ToListAsync().GetAwaiter();

    /// <summary>Waits for every result and returns them in input order.</summary>
    public abstract Task<IReadOnlyList<T>> ToListAsync();

    /// <summary>Yields each item's input index and result in the order the items complete; each index exactly once.</summary>
    public abstract IAsyncEnumerable<(int Index, T Result)> AsCompleted();

    /// <summary>Yields the results in input order.</summary>
    public abstract IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default);

    /// <summary>Gets how many items are done, failed, cancelled and pending right now; safe to read from any thread while the map runs.</summary>
    public abstract MapProgress Progress { get; }
}

/// <summary>Where a <c>Map</c> is: counts of its items by state.</summary>
public readonly struct MapProgress : IEquatable<MapProgress>
{
    /// <summary>Gets the items whose job returned a result.</summary>
    public int Succeeded { get; init; }

    /// <summary>Gets the items whose job failed (threw, timed out, or lost its worker).</summary>
    public int Failed { get; init; }

    /// <summary>Gets the items cancelled (the map was cancelled, abandoned, or ended by a failure).</summary>
    public int Cancelled { get; init; }

    /// <summary>Gets the items taken from the input and not answered yet: queued or running.</summary>
    public int Pending { get; init; }

    /// <summary>Gets the number of items, once the whole input has been read; <see langword="null"/> before.</summary>
    public int? Total { get; init; }

    /// <summary>Gets the items answered, whatever the outcome.</summary>
    public int Done => Succeeded + Failed + Cancelled;

    /// <summary>Whether two snapshots hold the same counts.</summary>
    public static bool operator ==(MapProgress left, MapProgress right) => left.Equals(right);

    /// <summary>Whether two snapshots hold different counts.</summary>
    public static bool operator !=(MapProgress left, MapProgress right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(MapProgress other) =>
        (Succeeded, Failed, Cancelled, Pending, Total) == (other.Succeeded, other.Failed, other.Cancelled, other.Pending, other.Total);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is MapProgress other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Succeeded, Failed, Cancelled, Pending, Total);

    /// <inheritdoc />
    public override string ToString() => $"{Done}/{(Total is { } total ? total : "?")} done ({Succeeded} succeeded, {Failed} failed, {Cancelled} cancelled, {Pending} pending)";
}
