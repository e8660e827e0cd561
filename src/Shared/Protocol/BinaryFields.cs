using System.Buffers;
using System.Text;

namespace ProcessPools.Protocol;

/// <summary>
/// The plain binary form of the start-up payloads (hello, setup, definitions). Measured here: as
/// System.Text.Json (source-generated) these made JSON's first use part of every worker's start, on both
/// sides, JIT-compiled; these few fields need none of it.
/// </summary>
internal static class BinaryFields
{
    /// <summary>The most items a start-up list may announce; more means a corrupt or hostile frame.</summary>
    public const int MaxListCount = 100_000;

    public static byte[] Write(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    /// <summary>Reads a payload; a truncated or malformed one throws <see cref="InvalidDataException"/>.</summary>
    public static T Read<T>(ReadOnlySequence<byte> payload, Func<BinaryReader, T> read)
    {
        using var stream = new MemoryStream(payload.ToArray(), writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            return read(reader);
        }
        catch (EndOfStreamException exception)
        {
            throw new InvalidDataException("A start-up payload is truncated.", exception);
        }
    }

    public static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    public static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    public static void WriteList<T>(BinaryWriter writer, IReadOnlyList<T> items, Action<BinaryWriter, T> write)
    {
        writer.Write(items.Count);
        foreach (var item in items)
        {
            write(writer, item);
        }
    }

    public static T[] ReadList<T>(BinaryReader reader, Func<BinaryReader, T> read)
    {
        var count = reader.ReadInt32();
        if (count is < 0 or > MaxListCount)
        {
            throw new InvalidDataException($"A start-up payload announced {count} items.");
        }

        var items = new T[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = read(reader);
        }

        return items;
    }
}
