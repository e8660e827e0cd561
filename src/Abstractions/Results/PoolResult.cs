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
}
