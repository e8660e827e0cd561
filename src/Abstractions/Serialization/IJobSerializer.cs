using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace ProcessPools;

/// <summary>
/// Turns job arguments and results into bytes and back. The worker process creates its own instance
/// from the type's public parameterless constructor, so both sides use the same format.
/// </summary>
/// <remarks>
/// The generic members serve the typed paths (a map's items, a chunk's results), which avoid boxing and
/// argument arrays; they must write the same bytes as the non-generic ones for the same declared type. Their
/// default implementations call the non-generic members, so a serializer only overrides them for speed.
/// </remarks>
public interface IJobSerializer
{
    /// <summary>Writes <paramref name="value"/>, declared as <paramref name="type"/>, to <paramref name="destination"/>.</summary>
    void Serialize(IBufferWriter<byte> destination, object? value, Type type);

    /// <summary>Reads a value of <paramref name="type"/> from <paramref name="source"/>.</summary>
    object? Deserialize(ReadOnlySequence<byte> source, Type type);

    /// <summary>Writes <paramref name="value"/>, declared as <typeparamref name="T"/>, to <paramref name="destination"/>.</summary>
    void Serialize<T>(IBufferWriter<byte> destination, T value) => Serialize(destination, value, typeof(T));

    /// <summary>Reads a value of <typeparamref name="T"/> from <paramref name="source"/>.</summary>
    T Deserialize<T>(ReadOnlySequence<byte> source) => (T)Deserialize(source, typeof(T))!;

    /// <summary>
    /// Tells whether values declared as <paramref name="type"/> that this serializer writes can be read back. The pool
    /// asks once per job, for each sent parameter and the result, before the first call is sent: a job whose arguments
    /// its worker could not read, or whose result its caller could not, is refused at the call site instead of failing
    /// in the worker, or after it has run. The default answers yes.
    /// </summary>
    /// <param name="type">A job's parameter or result type.</param>
    /// <param name="reason">Why not, in a sentence, when the answer is no.</param>
    /// <returns>Whether values of <paramref name="type"/> can be read back.</returns>
    bool CanDeserialize(Type type, [NotNullWhen(false)] out string? reason)
    {
        reason = null;
        return true;
    }
}
