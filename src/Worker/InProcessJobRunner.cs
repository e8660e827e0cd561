using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using ProcessPools.Channels;
using ProcessPools.Protocol;
using ProcessPools.Worker.Execution;

namespace ProcessPools.Worker;

/// <summary>
/// Runs jobs in the calling process through a worker's own code path: the target is defined as a worker receives it
/// (the same define payload), bound by the same invoker (generated, or by reflection), its arguments read from the
/// invoke layout, its result written as a worker answers it, and a failure turned into the
/// <see cref="RemoteJobException"/> the parent throws, from the same fault payload. What it does not do is cross a
/// process: no channel, no supervision, no worker loss. ProcessPool.Testing's pool runs on it.
/// </summary>
public sealed class InProcessJobRunner
{
    private readonly ConcurrentDictionary<JobTarget, Lazy<JobInvoker>> _invokers = new();
    private readonly IServiceProvider _services;
    private readonly IJobSerializer _serializer;
    private readonly int _maxMessageSize;
    private readonly JobExceptionHandlers _exceptionHandlers;

    /// <summary>Creates a runner over the worker services its jobs resolve (job classes, a job's <see cref="IServiceProvider"/>).</summary>
    /// <param name="services">The worker's services; each job that needs a scope gets one of its own.</param>
    /// <param name="serializer">The pool's serializer.</param>
    /// <param name="maxMessageSize">The channel's limit of one message, as <see cref="ProcessPoolOptions.MaxMessageSize"/>.</param>
    public InProcessJobRunner(IServiceProvider services, IJobSerializer serializer, int maxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serializer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageSize, 1024);
        _services = services;
        _serializer = serializer;
        _maxMessageSize = maxMessageSize;
        _exceptionHandlers = new JobExceptionHandlers([.. services.GetServices<IJobExceptionHandler>()], CancellationToken.None);
    }

    /// <summary>Runs one job and answers its result as a worker does: the serialized result's bytes.</summary>
    /// <param name="target">The job, resolved to what a worker runs (a request's job class, not the request).</param>
    /// <param name="arguments">Its arguments, as <c>JobPayloads.WriteArguments</c> wrote them.</param>
    /// <param name="cancellationToken">Cancels the job, as a cancel frame does in a worker.</param>
    /// <exception cref="RemoteJobException">The job failed, could not be bound, or its result could not be sent.</exception>
    /// <exception cref="OperationCanceledException">The job was cancelled.</exception>
    public async Task<byte[]> InvokeAsync(JobTarget target, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        JobInvoker invoker;
        object?[] sent;
        try
        {
            invoker = _invokers.GetOrAdd(target, static t => new Lazy<JobInvoker>(() => JobInvoker.Create(Define(t)))).Value;
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(arguments));
            sent = invoker.ReadArguments(ref reader, _serializer, progress: null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw FaultOf(target.Name, exception);
        }

        object? result;
        try
        {
            result = await invoker.InvokeAsync(sent, _services, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            await _exceptionHandlers.NotifyAsync(invoker.Name, sent, exception).ConfigureAwait(false);
            throw FaultOf(invoker.Name, exception);
        }

        using var buffer = new PooledBufferWriter();
        if (invoker.WriteResult(result, _serializer, _maxMessageSize, buffer) is { } unsendable)
        {
            throw FaultOf(invoker.Name, unsendable);
        }

        return buffer.WrittenMemory.ToArray();
    }

    /// <summary>The definition a worker would receive: encoded and decoded as the define frame carries it.</summary>
    private static JobDefinition Define(JobTarget target) =>
        DefinePayload.Decode(new ReadOnlySequence<byte>(DefinePayload.Encode(JobDefinition.From(target))));

    /// <summary>
    /// The exception a caller gets when job <paramref name="jobName"/> throws <paramref name="exception"/> in a worker: made
    /// from the fault payload a worker sends (type hierarchy, message, stack, inner exceptions), as the parent makes it.
    /// </summary>
    /// <param name="jobName">The job's name.</param>
    /// <param name="exception">What the job threw.</param>
    public static RemoteJobException FaultOf(string jobName, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(jobName);
        ArgumentNullException.ThrowIfNull(exception);
        return FaultPayload.Decode(new ReadOnlySequence<byte>(FaultPayload.Encode(exception))).ToException(jobName);
    }
}
