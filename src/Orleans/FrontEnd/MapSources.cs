using ProcessPools.Transport;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>A map's input as the cluster map pulls it: one item at a time, added to the chunk being formed.</summary>
internal interface IMapSource : IAsyncDisposable
{
    ValueTask<bool> MoveNextAsync();

    /// <summary>Adds the current item to the chunk; a bad argument throws <see cref="ArgumentException"/> and leaves the chunk as it was.</summary>
    void AddCurrent(JobChunkWriter chunk);
}

/// <summary>
/// A one-argument job's items. Typed (the job's parameter is <typeparamref name="TItem"/>), each is written straight from
/// its value, no argument array, no box; otherwise as the argument set <c>[item]</c>, checked against the parameter.
/// </summary>
internal sealed class ValueSource<TItem>(IEnumerable<TItem> items, bool typed) : IMapSource
{
    private readonly IEnumerator<TItem> _items = items.GetEnumerator();

    public ValueTask<bool> MoveNextAsync() => new(_items.MoveNext());

    public void AddCurrent(JobChunkWriter chunk)
    {
        if (typed)
        {
            chunk.AddItem(_items.Current);
        }
        else
        {
            chunk.Add([_items.Current]);
        }
    }

    public ValueTask DisposeAsync()
    {
        _items.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Argument sets, checked against the job's parameters and written as the local pool writes them.</summary>
internal sealed class ArgumentSetSource(IAsyncEnumerable<object?[]> sets) : IMapSource
{
    private IAsyncEnumerator<object?[]>? _sets;

    public ValueTask<bool> MoveNextAsync() => (_sets ??= sets.GetAsyncEnumerator()).MoveNextAsync();

    public void AddCurrent(JobChunkWriter chunk) => chunk.Add(_sets!.Current);

    public ValueTask DisposeAsync() => _sets?.DisposeAsync() ?? ValueTask.CompletedTask;
}
