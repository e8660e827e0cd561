using System.Buffers;
using System.Text.Json;
using ProcessPools.Channels;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// Large <see cref="ReadOnlyMemory{T}"/> and <see cref="Memory{T}"/> arguments of bytes, lent to their job: read into a
/// buffer the worker reuses (its pages already there) instead of a new array whose pages the kernel must zero each
/// time, and taken back once the job's task has completed and its result is written. A <c>byte[]</c> argument stays
/// the job's own array. Only the default serializer's binary format is read here; another serializer reads its own.
/// </summary>
internal sealed class LentArguments
{
    private byte[]? _first;
    private List<byte[]>? _more;

    /// <summary>Whether arguments of <paramref name="type"/> are lent when read by <paramref name="serializer"/>.</summary>
    public static bool Applies(Type type, IJobSerializer serializer) =>
        (type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>)) && serializer is JsonJobSerializer;

    /// <summary>
    /// Reads a memory argument written by <see cref="JsonJobSerializer"/> (a byte 1 then the bytes): large ones into a
    /// lent buffer recorded in <paramref name="lent"/>, small ones as the serializer would.
    /// </summary>
    public static object Read(ReadOnlySequence<byte> blob, Type type, IJobSerializer serializer, ref LentArguments? lent)
    {
        if (!LentBytes.IsLarge(blob))
        {
            return serializer.Deserialize(blob, type)!;
        }

        if (blob.FirstSpan[0] != 1)
        {
            throw new JsonException($"A null cannot be read as {type}.");
        }

        var (buffer, length) = LentBytes.Copy(blob);
        (lent ??= new LentArguments()).Add(buffer);
        return type == typeof(Memory<byte>) ? new Memory<byte>(buffer, 0, length) : new ReadOnlyMemory<byte>(buffer, 0, length);
    }

    /// <summary>Takes every lent buffer back: the job is over.</summary>
    public void Return()
    {
        if (_first is { } first)
        {
            ChannelBuffers.Return(first);
            _first = null;
        }

        foreach (var buffer in _more ?? [])
        {
            ChannelBuffers.Return(buffer);
        }

        _more = null;
    }

    private void Add(byte[] buffer)
    {
        if (_first is null)
        {
            _first = buffer;
        }
        else
        {
            (_more ??= []).Add(buffer);
        }
    }
}
