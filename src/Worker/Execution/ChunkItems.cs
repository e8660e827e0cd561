using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// The items of a chunk (consecutive items of a map in one frame): read on the reader thread, then run one after
/// the other, each writing its result.
/// </summary>
internal abstract class ChunkItems(int count)
{
    /// <summary>Gets, per item, why its arguments could not be read (that item fails with it), or null.</summary>
    public Exception?[] Errors { get; } = new Exception?[count];

    public int Count => Errors.Length;

    /// <summary>Reads one item's arguments; throws <see cref="InvalidDataException"/> for a malformed frame.</summary>
    public abstract void Read(int index, ref PayloadCursor item);

    /// <summary>Runs one item and writes its result (nothing for a job without one); throws what the job throws.</summary>
    public abstract ValueTask RunAsync(int index, PooledBufferWriter answers, IServiceProvider services, CancellationToken cancellationToken);

    /// <summary>The item's arguments as the exception handlers see them.</summary>
    public abstract object?[] Arguments(int index);
}

/// <summary>Reads the arguments of one job or item from its part of a frame.</summary>
internal delegate object?[] ArgumentsReader(JobInvoker invoker, ref SequenceReader<byte> reader);

/// <summary>Items as argument arrays, run through the job's <see cref="JobInvoker"/>: any job shape, any serializer.</summary>
internal sealed class BoxedChunkItems(JobInvoker invoker, IJobSerializer serializer, ArgumentsReader read, int count)
    : ChunkItems(count)
{
    private readonly object?[]?[] _items = new object?[]?[count];

    public override void Read(int index, ref PayloadCursor item)
    {
        var reader = new SequenceReader<byte>(item.RemainingSequence());
        _items[index] = read(invoker, ref reader);
    }

    public override async ValueTask RunAsync(int index, PooledBufferWriter answers, IServiceProvider services, CancellationToken cancellationToken)
    {
        var result = await invoker.InvokeAsync(_items[index]!, services, cancellationToken).ConfigureAwait(false);
        if (invoker.ResultType != typeof(void))
        {
            try
            {
                serializer.Serialize(answers, result, invoker.ResultType);
            }
            catch (Exception exception)
            {
                throw JobInvoker.Unserializable(invoker.Name, invoker.ResultType, exception);
            }
            finally
            {
                JobInvoker.Release(result);
            }
        }
    }

    public override object?[] Arguments(int index) => _items[index]!;
}
