using System.Buffers;
using System.Text;

namespace ProcessPools.Protocol;

/// <summary>
/// The start-up messages in a plain binary form. Measured here: as System.Text.Json (source-generated) the
/// hello, the setup and the first job definition made JSON's first use part of every worker's start, on both
/// sides, JIT-compiled; these few fields need none of it.
/// </summary>
internal static class WireBinary
{
    public static byte[] Encode(WorkerHello hello) => Write(writer =>
    {
        writer.Write(hello.Token);
        writer.Write(hello.ProcessId);
        writer.Write(hello.ProtocolVersion);
    });

    public static WorkerHello DecodeHello(ReadOnlySequence<byte> payload) =>
        Read(payload, reader => new WorkerHello(reader.ReadString(), reader.ReadInt32(), reader.ReadInt32()));

    public static byte[] Encode(WorkerSetup setup) => Write(writer =>
    {
        writer.Write(setup.WorkerId);
        writer.Write(setup.PoolName);
        WriteOptional(writer, setup.ContentRootPath);
        WriteOptional(writer, setup.EnvironmentName);
        WriteOptional(writer, setup.ApplicationName);
        writer.Write(setup.SerializerType);
        writer.Write(setup.ChildConcurrency);
        writer.Write(setup.MaxMessageSize);
        writer.Write(setup.HeartbeatTimeout.Ticks);
        WriteList(writer, setup.Initializers, WriteType);
        WriteList(writer, setup.Jobs, WriteType);
        WriteList(writer, setup.ExceptionHandlers, WriteType);
        WriteList(writer, setup.HostConfigurators, WriteDefinition);
    });

    public static WorkerSetup DecodeSetup(ReadOnlySequence<byte> payload) => Read(payload, reader => new WorkerSetup
    {
        WorkerId = reader.ReadInt32(),
        PoolName = reader.ReadString(),
        ContentRootPath = ReadOptional(reader),
        EnvironmentName = ReadOptional(reader),
        ApplicationName = ReadOptional(reader),
        SerializerType = reader.ReadString(),
        ChildConcurrency = reader.ReadInt32(),
        MaxMessageSize = reader.ReadInt32(),
        HeartbeatTimeout = TimeSpan.FromTicks(reader.ReadInt64()),
        Initializers = ReadList(reader, ReadType),
        Jobs = ReadList(reader, ReadType),
        ExceptionHandlers = ReadList(reader, ReadType),
        HostConfigurators = ReadList(reader, ReadDefinition),
    });

    public static byte[] Encode(JobDefinition definition) => Write(writer => WriteDefinition(writer, definition));

    public static JobDefinition DecodeDefinition(ReadOnlySequence<byte> payload) => Read(payload, ReadDefinition);

    private static void WriteDefinition(BinaryWriter writer, JobDefinition definition)
    {
        writer.Write((int)definition.Kind);
        writer.Write(definition.Name);
        writer.Write(definition.AssemblyName);
        writer.Write(definition.ModuleVersionId.ToByteArray());
        writer.Write(definition.MetadataToken);
        WriteOptional(writer, definition.JobTypeName);
        WriteOptional(writer, definition.AssemblyPath);
    }

    private static JobDefinition ReadDefinition(BinaryReader reader) => new()
    {
        Kind = (JobTargetKind)reader.ReadInt32(),
        Name = reader.ReadString(),
        AssemblyName = reader.ReadString(),
        ModuleVersionId = new Guid(reader.ReadBytes(16)),
        MetadataToken = reader.ReadInt32(),
        JobTypeName = ReadOptional(reader),
        AssemblyPath = ReadOptional(reader),
    };

    private static void WriteType(BinaryWriter writer, TypeReference type)
    {
        writer.Write(type.TypeName);
        WriteOptional(writer, type.AssemblyPath);
    }

    private static TypeReference ReadType(BinaryReader reader) => new(reader.ReadString(), ReadOptional(reader));

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    private static void WriteList<T>(BinaryWriter writer, IReadOnlyList<T> items, Action<BinaryWriter, T> write)
    {
        writer.Write(items.Count);
        foreach (var item in items)
        {
            write(writer, item);
        }
    }

    private static T[] ReadList<T>(BinaryReader reader, Func<BinaryReader, T> read)
    {
        var count = reader.ReadInt32();
        if (count is < 0 or > 100_000)
        {
            throw new InvalidDataException($"A start-up message announced {count} items.");
        }

        var items = new T[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = read(reader);
        }

        return items;
    }

    private static byte[] Write(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    private static T Read<T>(ReadOnlySequence<byte> payload, Func<BinaryReader, T> read)
    {
        using var stream = new MemoryStream(payload.ToArray(), writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        return read(reader);
    }
}
