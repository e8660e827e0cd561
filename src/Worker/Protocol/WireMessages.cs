using System.Text.Json.Serialization;

namespace ProcessPools.Protocol;

/// <summary>The child's first frame: proves it was launched by this parent (the token came through its environment).</summary>
internal sealed record WorkerHello(string Token, int ProcessId, int ProtocolVersion);

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
}

/// <summary>A type the child loads by name, with the path the parent loaded its assembly from as a fallback.</summary>
internal sealed record TypeReference(string TypeName, string? AssemblyPath)
{
    public static TypeReference From(Type type) =>
        new(type.AssemblyQualifiedName!, type.Assembly.Location is { Length: > 0 } location ? location : null);
}

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

    /// <summary>The identity of a static method (or non-capturing lambda) that is not a job, such as a host configurator.</summary>
    public static JobDefinition From(System.Reflection.MethodInfo method) => new()
    {
        Kind = JobTargetKind.Method,
        Name = $"{JobTarget.Describe(method.DeclaringType)}.{method.Name}",
        AssemblyName = method.Module.Assembly.FullName!,
        ModuleVersionId = method.Module.ModuleVersionId,
        MetadataToken = method.MetadataToken,
        AssemblyPath = method.Module.Assembly.Location is { Length: > 0 } location ? location : null,
    };

    public static JobDefinition From(JobTarget target) => new()
    {
        Kind = target.Kind,
        Name = target.Name,
        AssemblyName = (target.JobType?.Assembly ?? target.Method.Module.Assembly).FullName!,
        ModuleVersionId = target.Method.Module.ModuleVersionId,
        MetadataToken = target.Method.MetadataToken,
        JobTypeName = target.JobType?.AssemblyQualifiedName,
        AssemblyPath = (target.JobType?.Assembly ?? target.Method.Module.Assembly).Location is { Length: > 0 } location ? location : null,
    };
}

/// <summary>An exception as it crosses the process boundary.</summary>
internal sealed record RemoteError
{
    public required IReadOnlyList<string> TypeHierarchy { get; init; }
    public required string Message { get; init; }
    public string? StackTrace { get; init; }
    public IReadOnlyList<RemoteError>? Inner { get; init; }

    public static RemoteError From(Exception exception, int depth = 0)
    {
        var hierarchy = new List<string>();
        for (var type = exception.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            hierarchy.Add(type.FullName ?? type.Name);
        }

        IReadOnlyList<RemoteError>? inner = null;
        if (depth < 8)
        {
            inner = exception switch
            {
                AggregateException aggregate => [.. aggregate.InnerExceptions.Select(e => From(e, depth + 1))],
                { InnerException: { } one } => [From(one, depth + 1)],
                _ => null,
            };
        }

        return new RemoteError { TypeHierarchy = hierarchy, Message = exception.Message, StackTrace = exception.StackTrace, Inner = inner };
    }

    public RemoteJobException ToException(string jobName) =>
        new(jobName, TypeHierarchy, Message, StackTrace, Inner?.Select(e => e.ToException(jobName)).ToArray());
}

/// <summary>A log entry written through <c>ILogger</c> in a worker, re-logged by the parent.</summary>
internal sealed record LogEntry(string Category, int Level, int EventId, string? EventName, string Message, string? Exception);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RemoteError))]
[JsonSerializable(typeof(LogEntry))]
internal sealed partial class WireJsonContext : JsonSerializerContext;
