namespace ProcessPools.Dispatch;

/// <summary>A map's input: pulls items, and turns the ones it kept into the next job.</summary>
internal abstract class MapInput<TResult> : IAsyncDisposable
{
    public abstract int Kept { get; }

    public abstract ValueTask<bool> MoveNextAsync();

    /// <summary>The current item joins the next job.</summary>
    public abstract void Keep();

    /// <summary>Forgets the kept items: the pool closed before they became a job.</summary>
    public abstract void Discard();

    /// <summary>A job of the kept items (one item, or a chunk of consecutive items from <paramref name="firstIndex"/>); keeps nothing after.</summary>
    public abstract PendingJob TakeJob(MapOperation<TResult> map, int firstIndex);

    public abstract ValueTask DisposeAsync();
}

/// <summary>An input that keeps items of type <typeparamref name="TKept"/> until they become a job.</summary>
internal abstract class MapInput<TResult, TKept> : MapInput<TResult>
{
    private readonly List<TKept> _kept = [];

    public override int Kept => _kept.Count;

    public override void Keep() => _kept.Add(Current);

    public override void Discard() => _kept.Clear();

    public override PendingJob TakeJob(MapOperation<TResult> map, int firstIndex)
    {
        var count = _kept.Count;
        var target = map.Target;
        var number = JobRegistry.NumberOf(target);
        PendingJob job = count == 1
            ? map.Pool.Arguments.CreateJob(target, ArgumentsOf(_kept[0]), (id, buffer, length) => new MapItemJob<TResult>(map, firstIndex, id, target, number, buffer, length)
            {
                Timeout = map.Timeout,
                MaxRetries = map.MaxRetries,
            })
            : CreateChunkJob(map.Pool.Arguments, target, _kept, (id, buffer, length) => new MapChunkJob<TResult>(map, firstIndex, count, id, target, number, buffer, length));
        _kept.Clear();
        return job;
    }

    protected abstract TKept Current { get; }

    /// <summary>A lone item's arguments, for a job of its own.</summary>
    protected abstract object?[] ArgumentsOf(TKept item);

    protected abstract MapChunkJob<TResult> CreateChunkJob(ArgumentWriter writer, JobTarget target, List<TKept> items, Func<long, byte[], int, MapChunkJob<TResult>> create);
}

/// <summary>Argument sets (any job, any serializer, sync or async input).</summary>
internal sealed class ArgumentSetsInput<TResult>(IAsyncEnumerator<object?[]> items) : MapInput<TResult, object?[]>
{
    public override ValueTask<bool> MoveNextAsync() => items.MoveNextAsync();

    public override ValueTask DisposeAsync() => items.DisposeAsync();

    protected override object?[] Current => items.Current;

    protected override object?[] ArgumentsOf(object?[] item) => item;

    protected override MapChunkJob<TResult> CreateChunkJob(ArgumentWriter writer, JobTarget target, List<object?[]> items, Func<long, byte[], int, MapChunkJob<TResult>> create) =>
        writer.CreateChunkJob(target, items, create);
}

/// <summary>Plain values of a one-argument job, kept typed until they are written into a chunk.</summary>
internal sealed class ValuesInput<TResult, TItem>(IEnumerator<TItem> items) : MapInput<TResult, TItem>
{
    public override ValueTask<bool> MoveNextAsync() => new(items.MoveNext());

    public override ValueTask DisposeAsync()
    {
        items.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override TItem Current => items.Current;

    protected override object?[] ArgumentsOf(TItem item) => [item];

    protected override MapChunkJob<TResult> CreateChunkJob(ArgumentWriter writer, JobTarget target, List<TItem> items, Func<long, byte[], int, MapChunkJob<TResult>> create) =>
        writer.CreateValueChunkJob(target, items, create);
}
