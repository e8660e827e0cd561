using System.Buffers;

namespace ProcessPools.Protocol;

/// <summary>What the child needs to build its host and take jobs.</summary>
internal sealed record WorkerSetup
{
    public int WorkerId { get; init; }
    public string PoolName { get; init; } = string.Empty;
    public string? ContentRootPath { get; init; }
    public string? EnvironmentName { get; init; }
    public string? ApplicationName { get; init; }
    public required string SerializerType { get; init; }
    public int ChildConcurrency { get; init; }
    public int MaxMessageSize { get; init; }

    /// <summary>How long the parent may stay silent (it pings every heartbeat interval) before the child gives it up and exits.</summary>
    public TimeSpan HeartbeatTimeout { get; init; }

    /// <summary>The <see cref="IWorkerInitializer"/> types, run in order before the first job.</summary>
    public IReadOnlyList<TypeReference> Initializers { get; init; } = [];

    /// <summary>The job classes registered with <c>AddJob</c>, added to the worker's container.</summary>
    public IReadOnlyList<TypeReference> Jobs { get; init; } = [];

    /// <summary>The <see cref="IJobExceptionHandler"/> types.</summary>
    public IReadOnlyList<TypeReference> ExceptionHandlers { get; init; } = [];

    /// <summary>Static methods that take the worker's <c>IHostApplicationBuilder</c>, run in order before it is built.</summary>
    public IReadOnlyList<JobDefinition> HostConfigurators { get; init; } = [];

    /// <summary>The digest of the parent's compile-time registry: the worker's must be the same (the same build).</summary>
    public string RegistryFingerprint { get; init; } = string.Empty;

    /// <summary>The assemblies whose generated code registered entries in the parent, for a worker that has not loaded them yet.</summary>
    public IReadOnlyList<TypeReference> RegistryAssemblies { get; init; } = [];
}

/// <summary>A type the child loads by name, with the path the parent loaded its assembly from as a fallback.</summary>
internal sealed record TypeReference(string TypeName, string? AssemblyPath)
{
    public static TypeReference From(Type type) =>
        new(type.AssemblyQualifiedName!, Jobs.AssemblyLocation.Of(type.Assembly));
}

/// <summary>The <see cref="Channels.FrameType.Setup"/> payload, sent once after the child's hello.</summary>
internal static class SetupPayload
{
    public static byte[] Encode(WorkerSetup setup) => BinaryFields.Write(writer =>
    {
        writer.Write(setup.WorkerId);
        writer.Write(setup.PoolName);
        BinaryFields.WriteOptional(writer, setup.ContentRootPath);
        BinaryFields.WriteOptional(writer, setup.EnvironmentName);
        BinaryFields.WriteOptional(writer, setup.ApplicationName);
        writer.Write(setup.SerializerType);
        writer.Write(setup.ChildConcurrency);
        writer.Write(setup.MaxMessageSize);
        writer.Write(setup.HeartbeatTimeout.Ticks);
        BinaryFields.WriteList(writer, setup.Initializers, WriteType);
        BinaryFields.WriteList(writer, setup.Jobs, WriteType);
        BinaryFields.WriteList(writer, setup.ExceptionHandlers, WriteType);
        BinaryFields.WriteList(writer, setup.HostConfigurators, DefinePayload.Write);
        writer.Write(setup.RegistryFingerprint);
        BinaryFields.WriteList(writer, setup.RegistryAssemblies, WriteType);
    });

    public static WorkerSetup Decode(ReadOnlySequence<byte> payload) => BinaryFields.Read(payload, reader => new WorkerSetup
    {
        WorkerId = reader.ReadInt32(),
        PoolName = reader.ReadString(),
        ContentRootPath = BinaryFields.ReadOptional(reader),
        EnvironmentName = BinaryFields.ReadOptional(reader),
        ApplicationName = BinaryFields.ReadOptional(reader),
        SerializerType = reader.ReadString(),
        ChildConcurrency = reader.ReadInt32(),
        MaxMessageSize = reader.ReadInt32(),
        HeartbeatTimeout = TimeSpan.FromTicks(reader.ReadInt64()),
        Initializers = BinaryFields.ReadList(reader, ReadType),
        Jobs = BinaryFields.ReadList(reader, ReadType),
        ExceptionHandlers = BinaryFields.ReadList(reader, ReadType),
        HostConfigurators = BinaryFields.ReadList(reader, DefinePayload.Read),
        RegistryFingerprint = reader.ReadString(),
        RegistryAssemblies = BinaryFields.ReadList(reader, ReadType),
    });

    private static void WriteType(BinaryWriter writer, TypeReference type)
    {
        writer.Write(type.TypeName);
        BinaryFields.WriteOptional(writer, type.AssemblyPath);
    }

    private static TypeReference ReadType(BinaryReader reader) => new(reader.ReadString(), BinaryFields.ReadOptional(reader));
}
