namespace ProcessPools.Orleans.Contracts;

/// <summary>
/// The execution grain of one silo's local pool: one activation per silo and pool, pinned to that silo
/// (key <c>"{silo}|{pool}"</c>), reentrant so that it runs as many jobs at once as its pool takes. Arguments and results
/// cross as the job serializer's bytes.
/// </summary>
[Alias("ProcessPools.IProcessPoolGrain")]
internal interface IProcessPoolGrain : IGrainWithStringKey
{
    /// <summary>The grain type; a silo whose manifest lists it runs the execution grain.</summary>
    const string GrainTypeName = "processpool-exec";

    /// <summary>Runs one job on the silo's pool.</summary>
    [Alias("Invoke")]
    [ResponseTimeout("1.00:00:00")] // a job may run for long; a lost silo is detected through membership, not this timeout
    Task<JobReply> InvokeAsync(JobCall call, CancellationToken cancellationToken);

    /// <summary>Runs a chunk of a map's items on the silo's pool, one after the other in one worker, and answers each.</summary>
    [Alias("InvokeChunk")]
    [ResponseTimeout("1.00:00:00")]
    Task<JobReply> InvokeChunkAsync(ChunkCall call, CancellationToken cancellationToken);

    /// <summary>
    /// Of the calls a front end has had in flight on this silo for a while, says which it never received and which it
    /// answered lately: their request or their answer was lost on the way (a gateway between them died).
    /// </summary>
    [Alias("CheckCalls")]
    Task<CallCheck> CheckCallsAsync(Guid frontEnd, long[] calls);

    /// <summary>Gets the silo pool's capacity and its workers.</summary>
    [Alias("GetReport")]
    Task<SiloPoolReport> GetReportAsync();

    /// <summary>Inspects the silo's pool for an operator: a <c>PoolInspection</c> as JSON (<see cref="OperatorJson"/>), its workers naming the silo.</summary>
    [Alias("Inspect")]
    Task<byte[]> InspectAsync();

    /// <summary>Gets the silo pool's recent failures, newest first: <c>JobFailureRecord</c>s as JSON, each naming the silo.</summary>
    [Alias("RecentFailures")]
    Task<byte[]> RecentFailuresAsync();

    /// <summary>Gets a live worker's recent output as JSON; null when the silo's pool has no live worker with that id.</summary>
    [Alias("WorkerOutput")]
    Task<byte[]?> WorkerOutputAsync(int workerId);

    /// <summary>Takes an operator's action on the silo's pool; answers an <c>OperatorAnswer</c>.</summary>
    [Alias("Operate")]
    Task<int> OperateAsync(OperatorAction action, long target);
}
