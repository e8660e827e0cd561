using System.Buffers;

namespace ProcessPools;

/// <summary>
/// Turns job arguments and results into bytes and back. The worker process creates its own instance
/// from the type's public parameterless constructor, so both sides use the same format.
/// </summary>
public interface IJobSerializer
{
    /// <summary>Writes <paramref name="value"/>, declared as <paramref name="type"/>, to <paramref name="destination"/>.</summary>
    void Serialize(IBufferWriter<byte> destination, object? value, Type type);

    /// <summary>Reads a value of <paramref name="type"/> from <paramref name="source"/>.</summary>
    object? Deserialize(ReadOnlySequence<byte> source, Type type);
}
