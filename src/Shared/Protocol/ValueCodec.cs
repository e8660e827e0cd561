using System.Buffers;
using System.Runtime.CompilerServices;

namespace ProcessPools.Protocol;

/// <summary>
/// Writes and reads the values of one type in a map's per-item loops (a chunk's items, their results). The loops take
/// the codec as a struct type argument, so each is compiled for its codec: with the default serializer
/// (<see cref="JsonJobSerializer"/>, whose members are not virtual) its generic members are called directly and
/// inlined, with any other through delegates resolved once per chunk. Native AOT gets here what the JIT's dynamic
/// profile finds on its own (guarded devirtualization of the delegate).
/// </summary>
internal interface IValueWriter<in T>
{
    void Write(IBufferWriter<byte> destination, T value);
}

/// <summary>Reads the values of one type in a map's per-item loops (see <see cref="IValueWriter{T}"/>).</summary>
internal interface IValueReader<out T>
{
    T Read(ReadOnlySequence<byte> source);
}

/// <summary>Chooses how a map's per-item loops call a serializer.</summary>
internal static class ValueCodec
{
    /// <summary>
    /// The default serializer, when it is one, to call without dispatch. Its generic members are not virtual; a class
    /// derived from it changes its settings, not its members (its documentation says so).
    /// </summary>
    public static JsonJobSerializer? Json(IJobSerializer serializer) => serializer as JsonJobSerializer;
}

/// <summary>The default serializer's generic members, called directly.</summary>
internal readonly struct JsonCodec<T>(JsonJobSerializer json) : IValueWriter<T>, IValueReader<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(IBufferWriter<byte> destination, T value) => json.Serialize(destination, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read(ReadOnlySequence<byte> source) => json.Deserialize<T>(source);
}

/// <summary>Any serializer's generic member, through a delegate made once per loop (a generic interface method is looked up at each call, a delegate is not).</summary>
internal readonly struct DelegateWriter<T>(Action<IBufferWriter<byte>, T> write) : IValueWriter<T>
{
    public void Write(IBufferWriter<byte> destination, T value) => write(destination, value);
}

/// <summary>Any serializer's generic member, through a delegate made once per loop.</summary>
internal readonly struct DelegateReader<T>(Func<ReadOnlySequence<byte>, T> read) : IValueReader<T>
{
    public T Read(ReadOnlySequence<byte> source) => read(source);
}
