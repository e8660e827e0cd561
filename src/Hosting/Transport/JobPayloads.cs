using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.Transport;

/// <summary>
/// The bytes of a job as a transport carries it between a caller and a pool in another process or machine: the arguments
/// a caller's call becomes (checked against the job's parameters and serialized here, at the call site, so that a bad
/// argument fails before anything is sent), and the results a pool answers with (<see cref="ISerializedJobInvoker"/>).
/// Both ends must use the same <see cref="IJobSerializer"/>: the arguments written here are read in the pool's workers.
/// </summary>
/// <remarks>
/// The layouts are the pool's own (each argument a length-prefixed blob of the serializer's bytes; a chunk its item count,
/// then each item's arguments), so the receiving pool hands them to a worker as they are. They are versioned with the
/// package: the caller and the pool must run the same version of ProcessPool.Hosting.
/// </remarks>
public sealed class JobPayloads
{
    private readonly ArgumentSerializer _writer;
    private readonly ReadBackCheck _readBack;

    /// <summary>Creates the codec of one serializer.</summary>
    /// <param name="serializer">The job serializer of the pool that runs the jobs.</param>
    /// <param name="maxMessageSize">The largest arguments of one job or chunk, as the pool takes them (<see cref="ProcessPoolOptions.MaxMessageSize"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxMessageSize"/> is under 1024.</exception>
    public JobPayloads(IJobSerializer serializer, int maxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageSize, 1024);
        Serializer = serializer;
        MaxMessageSize = maxMessageSize;
        _writer = new ArgumentSerializer(serializer, maxMessageSize);
        _readBack = new ReadBackCheck(serializer);
    }

    /// <summary>Gets the serializer of arguments and results.</summary>
    public IJobSerializer Serializer { get; }

    /// <summary>Gets the largest arguments of one job or chunk.</summary>
    public int MaxMessageSize { get; }

    /// <summary>Serializes one job's arguments.</summary>
    /// <param name="target">The job.</param>
    /// <param name="arguments">The arguments its sent parameters take, in order (<see cref="JobTarget.ParameterTypes"/>).</param>
    /// <returns>The arguments in the pool's invoke layout.</returns>
    /// <exception cref="ArgumentException">
    /// An argument does not fit its parameter or cannot be serialized, the arguments are too large, the job reports
    /// progress (<see cref="JobTarget.ProgressType"/>), which a job sent as bytes has no caller to report to, or the
    /// serializer could not read back one of its parameters or its result (<see cref="IJobSerializer.CanDeserialize"/>).
    /// </exception>
    public byte[] WriteArguments(JobTarget target, object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        ThrowIfReportsProgress(target);
        _readBack.ThrowIfUnreadable(target);
        using var buffer = new PooledBufferWriter();
        _writer.WriteArguments(target, arguments, buffer);
        _writer.ThrowIfTooLarge(target, buffer.WrittenCount);
        return buffer.WrittenMemory.ToArray();
    }

    /// <summary>
    /// Refuses, before anything is sent, a job whose arguments its pool's workers could not read, or whose result its
    /// caller could not (<see cref="IJobSerializer.CanDeserialize"/>): such a call would fail in the worker, or after
    /// the job had run. <see cref="WriteArguments"/> and <see cref="CreateChunk"/> check it too; a map calls this at the
    /// call, before it takes its first item. Judged once per job.
    /// </summary>
    /// <param name="target">The job.</param>
    /// <exception cref="ArgumentException">A sent parameter or the result of the job could not be read back.</exception>
    public void ThrowIfUnreadable(JobTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _readBack.ThrowIfUnreadable(target);
    }

    /// <summary>Starts a chunk: consecutive items of a map that one worker runs one after the other, answering each.</summary>
    /// <param name="target">The job each item runs.</param>
    /// <param name="initialCapacity">The bytes to rent at first.</param>
    /// <exception cref="ArgumentException">The job reports progress, or the serializer could not read back one of its parameters or its result.</exception>
    public JobChunkWriter CreateChunk(JobTarget target, int initialCapacity = 4096)
    {
        ArgumentNullException.ThrowIfNull(target);
        ThrowIfReportsProgress(target);
        _readBack.ThrowIfUnreadable(target);
        return new JobChunkWriter(target, Serializer, _writer, initialCapacity);
    }

    /// <summary>Reads a job's result from the bytes its pool answered with.</summary>
    /// <typeparam name="TResult">The caller's result type (checked with <see cref="ThrowIfResultDoesNotFit{TResult}"/>).</typeparam>
    /// <param name="target">The job.</param>
    /// <param name="result">The bytes: the serializer's result; empty for a job without one.</param>
    /// <returns>The result; the default for a job that returns no result.</returns>
    public TResult ReadResult<TResult>(JobTarget target, ReadOnlySequence<byte> result)
    {
        ArgumentNullException.ThrowIfNull(target);
        return ResultOf<TResult>(target, result, Serializer);
    }

    /// <summary>A job's result from its bytes, for a local pool's jobs and a transport's: the default for a job without one.</summary>
    /// <remarks>A large <see cref="IMemoryOwner{T}"/> of bytes is lent from a reused buffer (<see cref="LentResult"/>).</remarks>
    internal static TResult ResultOf<TResult>(JobTarget target, ReadOnlySequence<byte> result, IJobSerializer serializer) =>
        target.ResultType == typeof(void) ? default!
        : LentResult.Applies(target.ResultType, serializer) ? (TResult)LentResult.Read(result, serializer)!
        : (TResult)serializer.Deserialize(result, target.ResultType)!;

    /// <summary>Reads the answers of a chunk from the bytes its pool answered with.</summary>
    /// <typeparam name="TResult">The caller's result type.</typeparam>
    /// <param name="target">The job.</param>
    /// <param name="answers">The bytes: each item's status and result or exception.</param>
    /// <param name="count">How many items the chunk held.</param>
    /// <exception cref="ProcessPoolException">The answers cannot be read as <paramref name="count"/> results of the job.</exception>
    public ChunkResults<TResult> ReadChunk<TResult>(JobTarget target, ReadOnlySequence<byte> answers, int count)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        try
        {
            return ChunkResults<TResult>.Read(answers, count, target, Serializer);
        }
        catch (Exception exception) when (exception is not (OutOfMemoryException or ProcessPoolException))
        {
            throw new ProcessPoolException($"The answers of a chunk of job '{target.Name}' could not be read as {count} results of type {typeof(TResult)}: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// Refuses, before anything is sent, a call that asks for a result the job cannot give. A job without a result answers
    /// <see langword="null"/>, so any nullable result fits it.
    /// </summary>
    /// <typeparam name="TResult">The caller's result type.</typeparam>
    /// <param name="target">The job.</param>
    /// <exception cref="ArgumentException">The job's result is not a <typeparamref name="TResult"/>.</exception>
    public static void ThrowIfResultDoesNotFit<TResult>(JobTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var fits = target.ResultType == typeof(void)
            ? !typeof(TResult).IsValueType || Nullable.GetUnderlyingType(typeof(TResult)) is not null
            : typeof(TResult).IsAssignableFrom(target.ResultType);
        if (!fits)
        {
            throw new ArgumentException(
                $"Job '{target.Name}' returns {(target.ResultType == typeof(void) ? "no result" : target.ResultType.ToString())}, which cannot be given as {typeof(TResult)}: nothing was sent.",
                nameof(TResult));
        }
    }

    private static void ThrowIfReportsProgress(JobTarget target)
    {
        if (target.ProgressType is not null)
        {
            throw new ArgumentException(
                $"Job '{target.Name}' takes an IProgress<T>; a job sent as bytes has no caller to report progress to. Run it on a local pool, or report through its result.",
                nameof(target));
        }
    }
}
