
namespace ProcessPools.Orleans;

/// <summary>
/// The execution grain of one silo's local pool: one activation per silo and pool, pinned to that silo
/// (<see cref="SiloPinnedPlacementAttribute"/>, key <c>"{silo}|{pool}"</c>), reentrant so that it runs as many jobs at
/// once as its pool takes. Arguments and results cross as the job serializer's bytes.
/// </summary>
[Alias("ProcessPools.IProcessPoolGrain")]
internal interface IProcessPoolGrain : IGrainWithStringKey
{
    /// <summary>Runs one job on the silo's pool.</summary>
    [Alias("Invoke")]
    [ResponseTimeout("1.00:00:00")] // a job may run for long; a lost silo is detected through membership, not this timeout
    Task<JobReply> InvokeAsync(JobCall call, CancellationToken cancellationToken);

    /// <summary>Runs a chunk of a map's items on the silo's pool, one after the other in one worker, and answers each.</summary>
    [Alias("InvokeChunk")]
    [ResponseTimeout("1.00:00:00")]
    Task<JobReply> InvokeChunkAsync(ChunkCall call, CancellationToken cancellationToken);

    /// <summary>
    /// Of the calls a front end has in flight on this silo, returns those this silo is not running: their request or their
    /// answer was lost on the way (a gateway between them died), so the front end sends them again or fails them.
    /// </summary>
    [Alias("Unknown")]
    Task<long[]> UnknownCallsAsync(Guid frontEnd, long[] calls);

    /// <summary>Gets the silo pool's capacity and its workers.</summary>
    [Alias("GetReport")]
    Task<SiloPoolReport> GetReportAsync();
}

/// <summary>The portable name of a job: what lets another process of the same application find the same job.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.JobName")]
internal sealed record JobName
{
    /// <summary>Gets what kind of job it is.</summary>
    [Id(0)] public int Kind { get; init; }

    /// <summary>Gets the job's readable name.</summary>
    [Id(1)] public required string Name { get; init; }

    /// <summary>Gets the id ProcessPool's source generator gave the job, if it did.</summary>
    [Id(2)] public string? GeneratedId { get; init; }

    /// <summary>Gets the compiler's class of the caller's delegate method, for a generated lambda or private method.</summary>
    [Id(3)] public string? SiteType { get; init; }

    /// <summary>Gets the compiler's name of the caller's delegate method.</summary>
    [Id(4)] public string? SiteMethod { get; init; }

    /// <summary>Gets the full name of the job method's assembly, for a job named by reflection.</summary>
    [Id(5)] public string? AssemblyName { get; init; }

    /// <summary>Gets the module version id that the caller's build of that assembly has.</summary>
    [Id(6)] public Guid ModuleVersionId { get; init; }

    /// <summary>Gets the job method's metadata token.</summary>
    [Id(7)] public int MetadataToken { get; init; }

    /// <summary>Gets the assembly-qualified name of the job class, or of the request for a request.</summary>
    [Id(8)] public string? TypeName { get; init; }

    /// <summary>Gets the assembly-qualified name of the result a request expects.</summary>
    [Id(9)] public string? ResultTypeName { get; init; }
}

/// <summary>One job as it crosses the cluster: its name, its arguments as the job serializer wrote them, and its settings.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.JobCall")]
internal sealed record JobCall
{
    /// <summary>Gets the job.</summary>
    [Id(0)] public required JobName Job { get; init; }

    /// <summary>Gets the arguments, in the pool's invoke layout (each a length-prefixed blob of the serializer's bytes).</summary>
    [Id(1)] public required byte[] Arguments { get; init; }

    /// <summary>Gets the job's timeout on the silo; <see langword="null"/> for none.</summary>
    [Id(2)] public TimeSpan? Timeout { get; init; }

    /// <summary>Gets the front end that sent it.</summary>
    [Id(3)] public Guid FrontEnd { get; init; }

    /// <summary>Gets the call's number at that front end.</summary>
    [Id(4)] public long CallId { get; init; }

}

/// <summary>A chunk of a map's items as it crosses the cluster.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.ChunkCall")]
internal sealed record ChunkCall
{
    /// <summary>Gets the job.</summary>
    [Id(0)] public required JobName Job { get; init; }

    /// <summary>Gets the items: their count, then each item's arguments (the pool's chunk layout).</summary>
    [Id(1)] public required byte[] Items { get; init; }

    /// <summary>Gets how many items the chunk holds.</summary>
    [Id(2)] public int Count { get; init; }

    /// <summary>Gets the front end that sent it.</summary>
    [Id(3)] public Guid FrontEnd { get; init; }

    /// <summary>Gets the call's number at that front end.</summary>
    [Id(4)] public long CallId { get; init; }
}

/// <summary>How a job (or a chunk) ended on its silo.</summary>
[GenerateSerializer, Alias("ProcessPools.JobOutcome")]
internal enum JobOutcome
{
    /// <summary><see cref="JobReply.Result"/> holds the result (or a chunk's answers).</summary>
    Succeeded,

    /// <summary>The job threw in its worker: <see cref="JobReply.Error"/> holds the remote exception.</summary>
    Faulted,

    /// <summary>The job was cancelled.</summary>
    Canceled,

    /// <summary>The job did not finish within its timeout.</summary>
    TimedOut,

    /// <summary>The worker running it died and the silo's pool had no retry left.</summary>
    WorkerLost,

    /// <summary>The silo's pool refused or failed the job (<see cref="JobReply.Error"/> says why).</summary>
    Refused,

    /// <summary>The silo is shutting down and its pool ended the job unfinished: the front end treats it as a lost silo.</summary>
    SiloStopping,
}

/// <summary>The answer of a job or chunk.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.JobReply")]
internal sealed record JobReply
{
    /// <summary>Gets how it ended.</summary>
    [Id(0)] public JobOutcome Outcome { get; init; }

    /// <summary>Gets the result bytes, or a chunk's answers, when it succeeded.</summary>
    [Id(1)] public byte[]? Result { get; init; }

    /// <summary>Gets the error, when it did not succeed.</summary>
    [Id(2)] public RemoteFault? Error { get; init; }
}

/// <summary>An exception as it crosses the cluster: the type hierarchy, message and stack of the job's own exception.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.RemoteFault")]
internal sealed record RemoteFault
{
    /// <summary>Gets the exception's type and its base types, most derived first.</summary>
    [Id(0)] public required string[] TypeHierarchy { get; init; }

    /// <summary>Gets its message.</summary>
    [Id(1)] public required string Message { get; init; }

    /// <summary>Gets its stack trace.</summary>
    [Id(2)] public string? StackTrace { get; init; }

    /// <summary>Gets its inner exceptions.</summary>
    [Id(3)] public RemoteFault[]? Inner { get; init; }

    /// <summary>Gets the pid of the worker that ran the job, for a lost worker.</summary>
    [Id(4)] public int ProcessId { get; init; }

    /// <summary>Gets the lost worker's exit code.</summary>
    [Id(5)] public int? ExitCode { get; init; }
}

/// <summary>A silo's pool as its execution grain reports it.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.SiloPoolReport")]
internal sealed record SiloPoolReport
{
    /// <summary>Gets how many jobs the pool runs at once (processes × child concurrency).</summary>
    [Id(0)] public int Capacity { get; init; }

    /// <summary>Gets the jobs running in its workers.</summary>
    [Id(1)] public int InFlight { get; init; }

    /// <summary>Gets the jobs waiting in its queues.</summary>
    [Id(2)] public int Queued { get; init; }

    /// <summary>Gets whether the pool takes jobs.</summary>
    [Id(3)] public bool IsAcceptingJobs { get; init; }

    /// <summary>Gets its workers: id, pid, state, jobs in flight and answered.</summary>
    [Id(4)] public required SiloWorker[] Workers { get; init; }

    /// <summary>Gets how many workers it started after its start.</summary>
    [Id(5)] public long WorkerRestarts { get; init; }
}

/// <summary>One worker process of a silo's pool.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.SiloWorker")]
internal sealed record SiloWorker
{
    /// <summary>Gets the worker's number in its pool.</summary>
    [Id(0)] public int WorkerId { get; init; }

    /// <summary>Gets its pid.</summary>
    [Id(1)] public int? ProcessId { get; init; }

    /// <summary>Gets its state.</summary>
    [Id(2)] public int State { get; init; }

    /// <summary>Gets the jobs it runs.</summary>
    [Id(3)] public int InFlight { get; init; }

    /// <summary>Gets the jobs it answered.</summary>
    [Id(4)] public long Completed { get; init; }
}
