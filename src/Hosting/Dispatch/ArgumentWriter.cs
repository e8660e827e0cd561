using ProcessPools.Channels;
using ProcessPools.Jobs;
using ProcessPools.Protocol;

namespace ProcessPools.Dispatch;

/// <summary>
/// Turns a call's arguments into a job: checks them against the job's parameters and serializes them into
/// the payload layouts of <see cref="InvokePayload"/> and <see cref="ChunkPayload"/>, at the call site, so a
/// bad argument fails there and nothing half-made reaches a worker.
/// </summary>
internal sealed class ArgumentWriter(IJobSerializer serializer, int maxMessageSize)
{
    private long _lastJobId;

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
            progress = WriteArguments(target, arguments, buffer);
            ThrowIfTooLarge(target, buffer);
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
        CreateChunk(target, items.Count, create, (buffer, i) => WriteArguments(target, items[i], buffer));

    /// <summary>
    /// A chunk of a one-argument job's items written straight from their values through the serializer's
    /// generic member: the same bytes <see cref="CreateChunkJob{TJob}"/> writes, without an argument array or a box per item.
    /// </summary>
    public TJob CreateValueChunkJob<TItem, TJob>(JobTarget target, List<TItem> items, Func<long, byte[], int, TJob> create)
        where TJob : PendingJob
    {
        // Resolved once per chunk: a generic interface method is looked up at each call, a delegate is not.
        Action<System.Buffers.IBufferWriter<byte>, TItem> serialize = serializer.Serialize;
        return CreateChunk(target, items.Count, create, (buffer, i) =>
        {
            var at = InvokePayload.BeginArgument(buffer);
            try
            {
                serialize(buffer, items[i]);
            }
            catch (Exception exception)
            {
                throw new ArgumentException($"Argument 1 of job '{target.Name}' ({typeof(TItem)}) cannot be serialized: {exception.Message}", nameof(items), exception);
            }

            InvokePayload.EndArgument(buffer, at);
        });
    }

    private TJob CreateChunk<TJob>(JobTarget target, int count, Func<long, byte[], int, TJob> create, Action<PooledBufferWriter, int> writeItem)
        where TJob : PendingJob
    {
        var buffer = new PooledBufferWriter();
        try
        {
            ChunkPayload.WriteCount(buffer, count);
            for (var i = 0; i < count; i++)
            {
                var at = ChunkPayload.BeginItem(buffer);
                writeItem(buffer, i);
                ChunkPayload.EndItem(buffer, at);
            }

            ThrowIfTooLarge(target, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        var (array, written) = buffer.Detach();
        return create(Interlocked.Increment(ref _lastJobId), array, written);
    }

    /// <summary>Appends each argument; returns the caller's progress sink, if the job takes one.</summary>
    internal object? WriteArguments(JobTarget target, object?[] arguments, PooledBufferWriter buffer)
    {
        var types = target.ParameterTypes;
        if (arguments.Length != types.Count)
        {
            throw new ArgumentException($"Job '{target.Name}' takes {types.Count} arguments; {arguments.Length} were given.", nameof(arguments));
        }

        object? progress = null;
        var takesProgress = target.ProgressType is not null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            var type = types[i];
            if (argument is null ? type.IsValueType && Nullable.GetUnderlyingType(type) is null : argument.GetType() != type && !type.IsInstanceOfType(argument))
            {
                throw new ArgumentException($"Argument {i + 1} of job '{target.Name}' must be {type}; it is {argument?.GetType().ToString() ?? "null"}.", nameof(arguments));
            }

            if (takesProgress && JobShape.ProgressValueType(type) is not null)
            {
                // The caller's sink stays here; the worker learns only whether there is one.
                progress = argument;
                InvokePayload.WriteProgressArgument(buffer, connected: argument is not null);
                continue;
            }

            var at = InvokePayload.BeginArgument(buffer);
            try
            {
                serializer.Serialize(buffer, argument, type);
            }
            catch (Exception exception)
            {
                throw new ArgumentException($"Argument {i + 1} of job '{target.Name}' ({type}) cannot be serialized: {exception.Message}", nameof(arguments), exception);
            }

            InvokePayload.EndArgument(buffer, at);
        }

        return progress;
    }

    private void ThrowIfTooLarge(JobTarget target, PooledBufferWriter buffer) => ThrowIfTooLarge(target, buffer.WrittenCount);

    /// <summary>Refuses arguments of <paramref name="length"/> bytes that a frame could not carry.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter.")]
    internal void ThrowIfTooLarge(JobTarget target, int length)
    {
        // The frame carries the target number in front of these bytes.
        if (length + sizeof(int) > maxMessageSize)
        {
            throw new ArgumentException(
                $"The arguments of job '{target.Name}' serialize to {length} bytes, over the channel's limit of {maxMessageSize} bytes (MaxMessageSize).",
                "arguments");
        }
    }
}
