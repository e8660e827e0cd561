using ProcessPools.Transport;

namespace ProcessPools.Orleans.Contracts;

/// <summary>A <see cref="JobIdentity"/> as Orleans serializes it.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.JobIdentity")]
internal readonly struct JobIdentitySurrogate
{
    [Id(0)] public int Kind { get; init; }

    [Id(1)] public string Name { get; init; }

    [Id(2)] public string? GeneratedId { get; init; }

    [Id(3)] public string? SiteType { get; init; }

    [Id(4)] public string? SiteMethod { get; init; }

    [Id(5)] public string? AssemblyName { get; init; }

    [Id(6)] public Guid ModuleVersionId { get; init; }

    [Id(7)] public int MetadataToken { get; init; }

    [Id(8)] public string? TypeName { get; init; }

    [Id(9)] public string? ResultTypeName { get; init; }
}

/// <summary>Converts the public <see cref="JobIdentity"/> to and from its surrogate: the one shape it crosses in.</summary>
[RegisterConverter]
internal sealed class JobIdentitySurrogateConverter : IConverter<JobIdentity, JobIdentitySurrogate>
{
    public JobIdentity ConvertFromSurrogate(in JobIdentitySurrogate surrogate) => new()
    {
        Kind = (JobTargetKind)surrogate.Kind,
        Name = surrogate.Name,
        GeneratedId = surrogate.GeneratedId,
        SiteType = surrogate.SiteType,
        SiteMethod = surrogate.SiteMethod,
        AssemblyName = surrogate.AssemblyName,
        ModuleVersionId = surrogate.ModuleVersionId,
        MetadataToken = surrogate.MetadataToken,
        TypeName = surrogate.TypeName,
        ResultTypeName = surrogate.ResultTypeName,
    };

    public JobIdentitySurrogate ConvertToSurrogate(in JobIdentity value) => new()
    {
        Kind = (int)value.Kind,
        Name = value.Name,
        GeneratedId = value.GeneratedId,
        SiteType = value.SiteType,
        SiteMethod = value.SiteMethod,
        AssemblyName = value.AssemblyName,
        ModuleVersionId = value.ModuleVersionId,
        MetadataToken = value.MetadataToken,
        TypeName = value.TypeName,
        ResultTypeName = value.ResultTypeName,
    };
}

/// <summary>
/// One worker of a silo's pool as it crosses the cluster: made from the pool's <see cref="WorkerStatus"/> on the silo,
/// naming the silo, and made back into one on the front end. The one shape between the two, and the one copy each way.
/// </summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.SiloWorker")]
internal readonly record struct SiloWorker
{
    [Id(0)] public int WorkerId { get; init; }

    [Id(1)] public int? ProcessId { get; init; }

    [Id(2)] public int State { get; init; }

    [Id(3)] public int? Queue { get; init; }

    [Id(4)] public int InFlight { get; init; }

    [Id(5)] public long Completed { get; init; }

    [Id(6)] public DateTimeOffset? StartedAt { get; init; }

    [Id(7)] public string Silo { get; init; }

    public static SiloWorker Of(WorkerStatus worker, string silo) => new()
    {
        WorkerId = worker.WorkerId,
        ProcessId = worker.ProcessId,
        State = (int)worker.State,
        Queue = worker.Queue,
        InFlight = worker.InFlight,
        Completed = worker.Completed,
        StartedAt = worker.StartedAt,
        Silo = silo,
    };

    public WorkerStatus ToStatus() => new()
    {
        WorkerId = WorkerId,
        ProcessId = ProcessId,
        State = (WorkerState)State,
        Queue = Queue,
        InFlight = InFlight,
        Completed = Completed,
        StartedAt = StartedAt,
        Node = Silo,
    };
}
