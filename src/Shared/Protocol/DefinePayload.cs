using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using ProcessPools.Jobs;

namespace ProcessPools.Protocol;

/// <summary>The identity of a job target, sent once per child under a number (see <see cref="JobTarget"/>).</summary>
internal sealed record JobDefinition
{
    public JobTargetKind Kind { get; init; }
    public required string Name { get; init; }
    public required string AssemblyName { get; init; }
    public Guid ModuleVersionId { get; init; }
    public int MetadataToken { get; init; }
    public string? JobTypeName { get; init; }

    /// <summary>Where the parent loaded the assembly from, for a child whose dependency graph does not list it.</summary>
    public string? AssemblyPath { get; init; }

    /// <summary>The id the source generator gave the job or callback: the worker finds it in its compile-time registry, not by metadata.</summary>
    public string? GeneratedId { get; init; }

    /// <summary>For a generated entry whose code the generated code cannot name: the compiler's class of the delegate's method.</summary>
    public string? SiteType { get; init; }

    /// <summary>For a generated entry whose code the generated code cannot name: the compiled method's name.</summary>
    public string? SiteMethod { get; init; }

    /// <summary>The identity of a static method (or non-capturing lambda) that is not a job, such as a host configurator.</summary>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    public static JobDefinition From(MethodInfo method) => new()
    {
        Kind = JobTargetKind.Method,
        Name = $"{JobShape.Describe(method.DeclaringType)}.{method.Name}",
        AssemblyName = method.Module.Assembly.FullName!,
        ModuleVersionId = method.Module.ModuleVersionId,
        MetadataToken = method.MetadataToken,
        AssemblyPath = LocationOf(method.Module.Assembly),
    };

    /// <summary>A generated callback (a host configurator): its id and where the parent's delegate points.</summary>
    public static JobDefinition ForGenerated(string id, string name, Delegate callback) =>
        Generated(JobTargetKind.Method, name, id, ProcessPools.Generated.GeneratedSite.Of(callback));

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A target that is not generated was made by JobTarget.FromDelegate or FromJobType, whose callers carry the warning.")]
    public static JobDefinition From(JobTarget target)
    {
        if (target.GeneratedId is { } id)
        {
            return Generated(target.Kind, target.Name, id, target.GeneratedSite);
        }

        if (target.JobType is { } jobType)
        {
            // A job class is named by its type alone (the worker creates it from its container); its method's
            // metadata token is not read, since Native AOT has none to give.
            return new()
            {
                Kind = target.Kind,
                Name = target.Name,
                AssemblyName = jobType.Assembly.FullName!,
                JobTypeName = jobType.AssemblyQualifiedName,
                AssemblyPath = LocationOf(jobType.Assembly),
            };
        }

        var method = target.Method!;
        return new()
        {
            Kind = target.Kind,
            Name = target.Name,
            AssemblyName = method.Module.Assembly.FullName!,
            ModuleVersionId = method.Module.ModuleVersionId,
            MetadataToken = method.MetadataToken,
            AssemblyPath = LocationOf(method.Module.Assembly),
        };
    }

    /// <summary>A generated entry: named by its id, with where the parent's delegate points; no metadata of its own.</summary>
    private static JobDefinition Generated(JobTargetKind kind, string name, string id, ProcessPools.Generated.GeneratedSite? site) =>
        new() { Kind = kind, Name = name, AssemblyName = string.Empty, GeneratedId = id, SiteType = site?.DeclaringType, SiteMethod = site?.Method };

    private static string? LocationOf(Assembly assembly) => AssemblyLocation.Of(assembly);
}

/// <summary>The <see cref="Channels.FrameType.Define"/> payload; the frame's job id field carries the target's number.</summary>
internal static class DefinePayload
{
    public static byte[] Encode(JobDefinition definition) => BinaryFields.Write(writer => Write(writer, definition));

    public static JobDefinition Decode(ReadOnlySequence<byte> payload) => BinaryFields.Read(payload, Read);

    internal static void Write(BinaryWriter writer, JobDefinition definition)
    {
        writer.Write((int)definition.Kind);
        writer.Write(definition.Name);
        writer.Write(definition.AssemblyName);
        writer.Write(definition.ModuleVersionId.ToByteArray());
        writer.Write(definition.MetadataToken);
        BinaryFields.WriteOptional(writer, definition.JobTypeName);
        BinaryFields.WriteOptional(writer, definition.AssemblyPath);
        BinaryFields.WriteOptional(writer, definition.GeneratedId);
        BinaryFields.WriteOptional(writer, definition.SiteType);
        BinaryFields.WriteOptional(writer, definition.SiteMethod);
    }

    internal static JobDefinition Read(BinaryReader reader) => new()
    {
        Kind = (JobTargetKind)reader.ReadInt32(),
        Name = reader.ReadString(),
        AssemblyName = reader.ReadString(),
        ModuleVersionId = new Guid(reader.ReadBytes(16)),
        MetadataToken = reader.ReadInt32(),
        JobTypeName = BinaryFields.ReadOptional(reader),
        AssemblyPath = BinaryFields.ReadOptional(reader),
        GeneratedId = BinaryFields.ReadOptional(reader),
        SiteType = BinaryFields.ReadOptional(reader),
        SiteMethod = BinaryFields.ReadOptional(reader),
    };
}
