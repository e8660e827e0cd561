namespace ProcessPools.Transport;

/// <summary>
/// Runs jobs that arrive as bytes on a local pool: the receiving end of a transport (a cluster's execution grain, a gRPC
/// service, a queue's consumer) that carries a job's identity (<see cref="JobIdentity"/>) and the arguments a caller wrote
/// with <see cref="JobPayloads"/>, and answers with the worker's bytes. Nothing is deserialized or serialized again on
/// the way. Every pool registered with <c>AddProcessPool(name, ...)</c> has one, injected with
/// <c>[FromKeyedServices(name)] ISerializedJobInvoker</c>.
/// </summary>
public interface ISerializedJobInvoker
{
    /// <summary>Gets the pool's name (the empty string for the default pool).</summary>
    string Name { get; }

    /// <summary>Gets the pool's options: its serializer, message size and shutdown timeout, as a transport needs them.</summary>
    ProcessPoolOptions Options { get; }

    /// <summary>Gets the pool's status as it knows it now, as <see cref="IProcessPool.GetStatusAsync"/> answers it, without waiting.</summary>
    ProcessPoolStatus GetStatus();

    /// <summary>Runs a job, or a chunk of a map's items, whose arguments arrive as bytes; answers with the worker's bytes.</summary>
    /// <param name="target">The job (<see cref="JobIdentity.Resolve"/> finds it from the caller's identity).</param>
    /// <param name="arguments">
    /// For one job (<paramref name="itemCount"/> 0), its arguments (<see cref="JobPayloads.WriteArguments"/>); for a chunk,
    /// its count and items (<see cref="JobChunkWriter"/>). Copied before the call returns: the caller keeps its buffer.
    /// </param>
    /// <param name="itemCount">0 for one job; otherwise how many items the chunk holds.</param>
    /// <param name="options">Timeout and retries in this pool; <see langword="null"/> keeps the pool's.</param>
    /// <param name="cancellationToken">Cancels the job, in its worker once it runs.</param>
    /// <returns>
    /// The job's result bytes (<see cref="JobPayloads.ReadResult{TResult}"/>), or for a chunk its answers
    /// (<see cref="JobPayloads.ReadChunk{TResult}"/>). Completes where the answer is read: continue elsewhere for long work.
    /// </returns>
    /// <exception cref="ArgumentException">The arguments are too large, or the job reports progress. Nothing ran.</exception>
    /// <exception cref="InvalidOperationException">The pool has not been started, or has no registration for the job class. Nothing ran.</exception>
    /// <exception cref="ObjectDisposedException">The pool is closed. Nothing ran.</exception>
    /// <remarks>
    /// The task fails as <see cref="IProcessPool.InvokeAsync{TResult}"/> does: <see cref="RemoteJobException"/>,
    /// <see cref="WorkerLostException"/>, <see cref="TimeoutException"/>, or cancelled.
    /// </remarks>
    Task<byte[]> InvokeSerializedAsync(JobTarget target, ReadOnlySpan<byte> arguments, int itemCount, JobOptions? options, CancellationToken cancellationToken);
}
