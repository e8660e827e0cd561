using System.Buffers;
using System.Buffers.Binary;
using ProcessPools.Channels;
using ProcessPools.Protocol;

namespace ProcessPools.Transport;

/// <summary>
/// Writes a chunk of a map's items in the pool's chunk layout (the item count, then each item's arguments), into a
/// buffer rented from the shared pool: created by <see cref="JobPayloads.CreateChunk"/>, disposed by its owner.
/// </summary>
public sealed class JobChunkWriter : IDisposable
{
    private readonly JobTarget _target;
    private readonly IJobSerializer _serializer;
    private readonly ArgumentSerializer _writer;
    private PooledBufferWriter _buffer;
    private Delegate? _serializeItem; // Action<IBufferWriter<byte>, TItem>, resolved once: a generic interface method is looked up at each call

    internal JobChunkWriter(JobTarget target, IJobSerializer serializer, ArgumentSerializer writer, int initialCapacity)
    {
        _target = target;
        _serializer = serializer;
        _writer = writer;
        _buffer = NewBuffer(initialCapacity);
    }

    /// <summary>Gets how many items the chunk holds.</summary>
    public int Count { get; private set; }

    /// <summary>Gets how many bytes the chunk takes so far.</summary>
    public int Length => _buffer.WrittenCount;

    /// <summary>Appends an item given as its argument set.</summary>
    /// <param name="arguments">The arguments the job's sent parameters take.</param>
    /// <exception cref="ArgumentException">An argument does not fit or cannot be serialized; the chunk is as it was.</exception>
    public void Add(object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var before = _buffer.WrittenCount;
        try
        {
            var at = ChunkPayload.BeginItem(_buffer);
            _writer.WriteArguments(_target, arguments, _buffer);
            ChunkPayload.EndItem(_buffer, at);
        }
        catch
        {
            _buffer.Truncate(before);
            throw;
        }

        Count++;
    }

    /// <summary>Appends an item of a one-argument job given as its value: no argument array, no box.</summary>
    /// <typeparam name="TItem">The job's one parameter type.</typeparam>
    /// <param name="item">The argument.</param>
    /// <exception cref="ArgumentException">The job does not take one <typeparamref name="TItem"/>, or the item cannot be serialized; the chunk is as it was.</exception>
    public void AddItem<TItem>(TItem item)
    {
        if (_serializeItem is not Action<IBufferWriter<byte>, TItem> serialize)
        {
            if (_target.ParameterTypes.Count != 1 || _target.ParameterTypes[0] != typeof(TItem))
            {
                throw new ArgumentException($"Job '{_target.Name}' does not take one argument of type {typeof(TItem)}.", nameof(item));
            }

            _serializeItem = serialize = _serializer.Serialize;
        }

        var before = _buffer.WrittenCount;
        try
        {
            var at = ChunkPayload.BeginItem(_buffer);
            ArgumentSerializer.WriteValue(new DelegateWriter<TItem>(serialize), _target, item, _buffer);
            ChunkPayload.EndItem(_buffer, at);
        }
        catch
        {
            _buffer.Truncate(before);
            throw;
        }

        Count++;
    }

    /// <summary>Copies the chunk out, its count filled in, and empties the writer for the next chunk.</summary>
    /// <exception cref="ArgumentException">The chunk is larger than <see cref="JobPayloads.MaxMessageSize"/>.</exception>
    public byte[] ToArrayAndClear()
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.WrittenSpan(0, sizeof(int)), Count);
        _writer.ThrowIfTooLarge(_target, _buffer.WrittenCount);
        var bytes = _buffer.WrittenMemory.ToArray();
        Clear();
        return bytes;
    }

    /// <summary>Drops the items written so far.</summary>
    public void Clear()
    {
        _buffer.Truncate(0);
        ChunkPayload.WriteCount(_buffer, 0); // filled in when the chunk is taken
        Count = 0;
    }

    /// <summary>Returns the rented buffer.</summary>
    public void Dispose()
    {
        _buffer.Dispose();
        _buffer = new PooledBufferWriter(1);
    }

    private static PooledBufferWriter NewBuffer(int initialCapacity)
    {
        var buffer = new PooledBufferWriter(Math.Max(16, initialCapacity));
        ChunkPayload.WriteCount(buffer, 0);
        return buffer;
    }
}
