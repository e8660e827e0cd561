using ProcessPools.Transport;

namespace ProcessPools.Orleans.Contracts;

/// <summary>One job as it crosses the cluster: its identity, its arguments as the job serializer wrote them, and its settings.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.JobCall")]
internal sealed record JobCall
{
    /// <summary>Gets the job.</summary>
    [Id(0)] public required JobIdentity Job { get; init; }

    /// <summary>Gets the arguments, in the pool's invoke layout (<see cref="JobPayloads.WriteArguments"/>).</summary>
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
    [Id(0)] public required JobIdentity Job { get; init; }

    /// <summary>Gets the items: their count, then each item's arguments (<see cref="JobChunkWriter"/>).</summary>
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

    /// <summary>The silo is shutting down and its pool ended the job unfinished: it may have run in part, so it counts as a lost silo's job.</summary>
    SiloStopping,

    /// <summary>The silo drains (it is stopping gracefully) and did not start the job: the front end sends it elsewhere, retries untouched.</summary>
    Draining,
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

    /// <summary>Gets what the silo's pool observed of a lost worker (<see cref="WorkerLostException.Reason"/>).</summary>
    [Id(6)] public string? Reason { get; init; }

    /// <summary>Gets the last lines a lost worker wrote to its standard error.</summary>
    [Id(7)] public string[]? StandardErrorTail { get; init; }
}

/// <summary>A silo's pool as its execution grain reports it.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.SiloPoolReport")]
internal sealed record SiloPoolReport
{
    /// <summary>Gets the pool's workers, each naming the silo.</summary>
    [Id(0)] public required SiloWorker[] Workers { get; init; }

    /// <summary>Gets how many jobs the pool runs at once (processes × child concurrency).</summary>
    [Id(1)] public int Capacity { get; init; }

    /// <summary>Gets the jobs waiting in its queues.</summary>
    [Id(2)] public int Queued { get; init; }

    /// <summary>Gets whether the pool takes jobs.</summary>
    [Id(3)] public bool IsAcceptingJobs { get; init; }

    /// <summary>Gets how many workers it started after its start.</summary>
    [Id(4)] public long WorkerRestarts { get; init; }

    /// <summary>Gets whether the silo drains: it is stopping gracefully, and takes no new job.</summary>
    [Id(5)] public bool IsDraining { get; init; }
}

/// <summary>What a silo knows of calls a front end has had in flight there for a while.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.CallCheck")]
internal sealed record CallCheck
{
    /// <summary>Gets the calls the silo never received (or forgot long ago): they never ran, and go elsewhere freely.</summary>
    [Id(0)] public required long[] Unknown { get; init; }

    /// <summary>
    /// Gets the calls the silo answered lately whose answer the front end still waits for: lost on the way back (a gateway
    /// between them stopped or died), after they ran. Each carries its reply again while the silo still keeps it.
    /// </summary>
    [Id(1)] public required AnsweredCall[] Answered { get; init; }
}

/// <summary>A call a silo answered lately, and its reply if the silo still keeps it.</summary>
[GenerateSerializer, Immutable, Alias("ProcessPools.AnsweredCall")]
internal sealed record AnsweredCall
{
    /// <summary>Gets the call's number at its front end.</summary>
    [Id(0)] public long Id { get; init; }

    /// <summary>Gets the reply the silo sent, or <see langword="null"/> when it no longer keeps it (over its budget).</summary>
    [Id(1)] public JobReply? Reply { get; init; }
}

/// <summary>An operator's action on a silo's pool (<see cref="IProcessPoolGrain.OperateAsync"/>).</summary>
[GenerateSerializer, Alias("ProcessPools.OperatorAction")]
internal enum OperatorAction
{
    /// <summary>Recycles the worker whose id is the target.</summary>
    Recycle,

    /// <summary>Kills the worker whose id is the target.</summary>
    Kill,

    /// <summary>Cancels the running job whose id is the target.</summary>
    Cancel,

    /// <summary>Drains the pool (no target).</summary>
    Drain,

    /// <summary>Resumes the pool's dispatch (no target).</summary>
    Resume,
}
