using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Transport;

namespace ProcessPools.Dispatch;

/// <summary>
/// Turns a call's arguments into a job: checks them against the job's parameters and serializes them into
/// the payload layouts of <see cref="InvokePayload"/> and <see cref="ChunkPayload"/>, at the call site, so a
/// bad argument fails there and nothing half-made reaches a worker.
/// </summary>
internal sealed class ArgumentWriter(IJobSerializer serializer, int maxMessageSize)
{
    private readonly ArgumentSerializer _arguments = new(serializer, maxMessageSize);
    private long _lastJobId;

    /// <summary>Checks and serializes arguments (the same code a transport's <see cref="JobPayloads"/> runs).</summary>
    public ArgumentSerializer Arguments => _arguments;

    /// <summary>The id of the next job, for a job whose arguments arrive serialized.</summary>
    public long NextJobId() => Interlocked.Increment(ref _lastJobId);

    /// <summary>Serializes one job's arguments and creates the job.</summary>
    public TJob CreateJob<TJob>(JobTarget target, object?[] arguments, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob
    {
        var buffer = new PooledBufferWriter();
        object? progress;
        try
        {
            progress = _arguments.WriteArguments(target, arguments, buffer);
            _arguments.ThrowIfTooLarge(target, buffer.WrittenCount);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, written) = buffer.Detach();
        var job = create(Interlocked.Increment(ref _lastJobId), array, written);
        job.ProgressSink = progress;
        return job;
    }

    /// <summary>One job for several items of a map (its chunk), each item an argument set.</summary>
    public TJob CreateChunkJob<TJob>(JobTarget target, IReadOnlyList<object?[]> items, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob =>
        CreateChunk(target, items.Count, create, new ArgumentSetItems(_arguments, target, items));

    /// <summary>
    /// A chunk of a one-argument job's items written straight from their values through the serializer's
    /// generic member: the same bytes <see cref="CreateChunkJob{TJob}"/> writes, without an argument array or a box per item.
    /// </summary>
    public TJob CreateValueChunkJob<TItem, TJob>(JobTarget target, List<TItem> items, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob =>
        ValueCodec.Json(serializer) is { } json
            ? CreateChunk(target, items.Count, create, new ValueItems<TItem, JsonCodec<TItem>>(target, items, new(json)))
            : CreateChunk(target, items.Count, create, new ValueItems<TItem, DelegateWriter<TItem>>(target, items, new(serializer.Serialize)));

    private TJob CreateChunk<TJob, TItems>(JobTarget target, int count, Func<long, byte[], int, TJob> create, TItems writeItem)
        where TJob : PendingJob
        where TItems : struct, IChunkItems
    {
        var buffer = new PooledBufferWriter();
        try
        {
            ChunkPayload.WriteCount(buffer, count);
            for (var i = 0; i < count; i++)
            {
                var at = ChunkPayload.BeginItem(buffer);
                writeItem.Write(buffer, i);
                ChunkPayload.EndItem(buffer, at);
            }

            _arguments.ThrowIfTooLarge(target, buffer.WrittenCount);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, written) = buffer.Detach();
        return create(Interlocked.Increment(ref _lastJobId), array, written);
    }

    /// <summary>Writes a chunk's item; a struct type argument, so each chunk loop is compiled for its kind of items.</summary>
    private interface IChunkItems
    {
        void Write(PooledBufferWriter buffer, int index);
    }

    private readonly struct ArgumentSetItems(ArgumentSerializer arguments, JobTarget target, IReadOnlyList<object?[]> items) : IChunkItems
    {
        public void Write(PooledBufferWriter buffer, int index) => arguments.WriteArguments(target, items[index], buffer);
    }

    private readonly struct ValueItems<TItem, TWriter>(JobTarget target, List<TItem> items, TWriter writer) : IChunkItems
        where TWriter : struct, IValueWriter<TItem>
    {
        public void Write(PooledBufferWriter buffer, int index) => ArgumentSerializer.WriteValue<TItem, TWriter>(writer, target, items[index], buffer);
    }
}
