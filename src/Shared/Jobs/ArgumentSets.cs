using System.Runtime.CompilerServices;

namespace ProcessPools.Jobs;

/// <summary>Turns items into the argument sets of <see cref="IProcessPool.InvokeMany{TResult}"/>.</summary>
internal static class ArgumentSets
{
    /// <summary>One argument per item.</summary>
    public static IAsyncEnumerable<object?[]> Of<TItem>(IEnumerable<TItem> items) => Of(items, static item => [item]);

#pragma warning disable CS1998 // a synchronous source behind the async shape: nothing to await.
    public static async IAsyncEnumerable<object?[]> Of<TItem>(IEnumerable<TItem> items, Func<TItem, object?[]> spread)
    {
        foreach (var item in items)
        {
            yield return spread(item);
        }
    }
#pragma warning restore CS1998

    public static async IAsyncEnumerable<object?[]> Of<TItem>(
        IAsyncEnumerable<TItem> items, Func<TItem, object?[]> spread, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return spread(item);
        }
    }
}
