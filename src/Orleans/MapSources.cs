using System.Buffers;
using ProcessPools.Channels;
using ProcessPools.Protocol;

namespace ProcessPools.Orleans;

/// <summary>A map's input as the cluster map pulls it: one item at a time, written in the pool's invoke layout.</summary>
internal interface IMapSource : IAsyncDisposable
{
    ValueTask<bool> MoveNextAsync();

    /// <summary>Writes the current item's arguments; a bad argument throws <see cref="ArgumentException"/>.</summary>
    void WriteCurrent(PooledBufferWriter buffer);
}

/// <summary>A one-argument job's items, written straight from their values through the serializer's generic member.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter.")]
internal sealed class ValueSource<TItem>(ClusterProcessPool pool, JobTarget target, IEnumerable<TItem> items) : IMapSource
{
    private readonly IEnumerator<TItem> _items = items.GetEnumerator();
    private readonly Action<IBufferWriter<byte>, TItem> _serialize = pool.Options.Serializer.Serialize;

    public ValueTask<bool> MoveNextAsync() => new(_items.MoveNext());

    public void WriteCurrent(PooledBufferWriter buffer)
    {
        var at = InvokePayload.BeginArgument(buffer);
        try
        {
            _serialize(buffer, _items.Current);
        }
        catch (Exception exception)
        {
            throw new ArgumentException($"Argument 1 of job '{target.Name}' ({typeof(TItem)}) cannot be serialized: {exception.Message}", "items", exception);
        }

        InvokePayload.EndArgument(buffer, at);
    }

    public ValueTask DisposeAsync()
    {
        _items.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Argument sets, checked against the job's parameters and written as the local pool writes them.</summary>
internal sealed class ArgumentSetSource(ClusterProcessPool pool, JobTarget target, IAsyncEnumerable<object?[]> sets) : IMapSource
{
    private IAsyncEnumerator<object?[]>? _sets;

    public ValueTask<bool> MoveNextAsync() => (_sets ??= sets.GetAsyncEnumerator()).MoveNextAsync();

    public void WriteCurrent(PooledBufferWriter buffer) => pool.Arguments.WriteArguments(target, _sets!.Current, buffer);

    public ValueTask DisposeAsync() => _sets?.DisposeAsync() ?? ValueTask.CompletedTask;
}
