using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using ProcessPools.Channels;
using ProcessPools.Dispatch;
using ProcessPools.Jobs;

namespace ProcessPools.Orleans;

/// <summary>
/// An <see cref="IProcessPool"/> over a Microsoft Orleans cluster: each job, or chunk of a map's items, goes to the silo
/// with the most free worker slots, whose execution grain runs it on that silo's local pool. Arguments and results cross
/// as the job serializer's bytes. A silo that leaves the cluster answers its jobs at once: retried on another silo
/// (<see cref="ClusterProcessPoolOptions.MaxRetries"/>) or failed with <see cref="SiloLostException"/>.
/// </summary>
internal sealed class ClusterProcessPool : IProcessPool
{
    private readonly CancellationTokenSource _closed = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private long _lastCallId;
    private int _state; // 0 created, 1 running, 2 closed

    public ClusterProcessPool(
        string name,
        ClusterProcessPoolOptions options,
        IClusterManifestProvider manifests,
        IGrainFactory grains,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        IMeterFactory? meterFactory)
    {
        options.Validate(name);
        Name = name;
        Options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger("ProcessPool.Cluster");
        Directory = new SiloDirectory(manifests, grains, options.SiloPool, time, _logger);
        Telemetry = new ClusterTelemetry(name, meterFactory, Directory);
        Arguments = new ArgumentWriter(options.Serializer, options.MaxMessageSize);
    }

    public string Name { get; }

    public ClusterProcessPoolOptions Options { get; }

    internal SiloDirectory Directory { get; }

    internal ClusterTelemetry Telemetry { get; }

    internal ArgumentWriter Arguments { get; }

    internal CancellationToken Closed => _closed.Token;

    internal string DisplayName => Name.Length == 0 ? "(default)" : Name;

    /// <summary>The window of a map when the options leave it to the pool.</summary>
    internal int MapWindow => Options.MapWindow > 0 ? Options.MapWindow : Math.Max(16_384, 4 * Directory.Capacity);

    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            Directory.Start();
        }
    }

    public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        ThrowIfNotAccepting();
        CheckTarget<TResult>(target);
        var bytes = WriteArguments(target, arguments);
        return RunAsync<TResult>(target, bytes, options, cancellationToken);
    }

    private async Task<TResult> RunAsync<TResult>(JobTarget target, byte[] arguments, JobOptions? options, CancellationToken cancellationToken)
    {
        var name = JobNames.Of(target);
        var call = new JobCall { Job = name, Arguments = arguments };
        var timeout = options?.Timeout ?? Options.JobTimeout;
        var retries = options?.MaxRetries ?? Options.MaxRetries;
        using var activity = Telemetry.StartJob(target.Name);
        var (reply, silo, _) = await SendAsync(target.Name, 1, timeout, retries, (grain, frontEnd, id, token) => grain.InvokeAsync(call with { FrontEnd = frontEnd, CallId = id }, token), acquired: null, cancellationToken).ConfigureAwait(false);
        if (reply.Outcome != JobOutcome.Succeeded)
        {
            var error = ErrorOf(reply, target.Name, silo, cancellationToken);
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            throw error;
        }

        return target.ResultType == typeof(void) ? default! : (TResult)Options.Serializer.Deserialize(new ReadOnlySequence<byte>(reply.Result!), target.ResultType)!;
    }

    /// <summary>
    /// Sends a job or chunk to a silo and waits for its answer; when the silo is lost first, sends it to another while
    /// retries are left. Never waits on a silo that left: its calls end when membership declares it dead.
    /// </summary>
    /// <param name="jobName">The job, for messages.</param>
    /// <param name="items">How many items the call carries, for metrics.</param>
    /// <param name="timeout">The job's timeout, from here to the answer.</param>
    /// <param name="maxRetries">How many other silos it may be sent to when its silo is lost.</param>
    /// <param name="call">The grain call.</param>
    /// <param name="acquired">A place already taken on a silo (<see cref="SiloDirectory.AcquireAsync"/>) for the first attempt; released here.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    /// <returns>The answer, the silo that gave it, and how long that silo took (from sending to answer).</returns>
    internal async Task<(JobReply Reply, string Silo, TimeSpan Elapsed)> SendAsync(
        string jobName, int items, TimeSpan? timeout, int maxRetries, Func<IProcessPoolGrain, Guid, long, CancellationToken, Task<JobReply>> call, SiloEntry? acquired, CancellationToken cancellationToken)
    {
        // One token for the call: the caller's, the pool's termination, and the job's timeout (from the call to the answer).
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        if (timeout is { } limit)
        {
            scope.CancelAfter(limit);
        }

        var token = scope.Token;

        // Orleans carries a token's cancellation to the silo, at a cost per call: only a token that can fire goes there.
        // The pool's termination and a lost silo end the wait here, and need not reach the silo.
        var crossing = cancellationToken.CanBeCanceled || timeout is not null ? token : CancellationToken.None;
        bool TimedOutNow() => timeout is not null && token.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !_closed.IsCancellationRequested;
        SiloEntry? avoid = null;
        for (var attempt = 1; ; attempt++)
        {
            SiloEntry silo;
            try
            {
                silo = acquired ?? await Directory.AcquireAsync(avoid, Options.SiloWaitTimeout, DisplayName, token).ConfigureAwait(false);
                acquired = null;
            }
            catch (OperationCanceledException) when (TimedOutNow())
            {
                throw TimedOut(jobName, timeout!.Value, "before a silo took it");
            }

            Activity.Current?.SetTag(ClusterTelemetry.SiloTag, silo.Name);
            var started = _time.GetTimestamp();
            var callId = Interlocked.Increment(ref _lastCallId);
            using var inFlight = new InFlightCall(callId, started);
            silo.Calls[callId] = inFlight;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, silo.Lost, inFlight.Orphaned);
            try
            {
                var reply = await call(silo.Grain, Directory.FrontEnd, callId, crossing).WaitAsync(linked.Token).ConfigureAwait(false);
                if (reply.Outcome == JobOutcome.SiloStopping)
                {
                    throw new SiloUnavailableException($"Silo {silo.Name} is shutting down: {reply.Error?.Message}");
                }

                var elapsed = _time.GetElapsedTime(started);
                Telemetry.OnAnswered(silo.Name, items, reply.Outcome.ToString(), elapsed);
                return (reply, silo.Name, elapsed);
            }
            catch (Exception exception) when (!token.IsCancellationRequested && (silo.IsLost || inFlight.IsOrphaned || IsUnreachable(exception)))
            {
                Telemetry.OnAnswered(silo.Name, items, "SiloLost", _time.GetElapsedTime(started));
                if (!silo.IsLost && !inFlight.IsOrphaned)
                {
                    Directory.Suspect(silo);
                }

                if (attempt > maxRetries)
                {
                    throw new SiloLostException(jobName, silo.Name, attempt, silo.IsLost || inFlight.IsOrphaned ? null : exception);
                }

                avoid = silo;
            }
            catch (OperationCanceledException) when (TimedOutNow())
            {
                Telemetry.OnAnswered(silo.Name, items, "TimedOut", _time.GetElapsedTime(started));
                throw TimedOut(jobName, timeout!.Value, $"it was cancelled in its worker on silo {silo.Name}");
            }
            finally
            {
                silo.Calls.TryRemove(callId, out _);
                Directory.Release(silo);
            }
        }
    }

    private static TimeoutException TimedOut(string jobName, TimeSpan timeout, string what) =>
        new($"Job '{jobName}' did not finish within {timeout} (its timeout); {what}.");

    /// <summary>Orleans could not reach the silo, or the silo is no member any more.</summary>
    private static bool IsUnreachable(Exception exception) =>
        exception is SiloUnavailableException or OrleansMessageRejectionException;

    /// <summary>The exception a caller gets for a job that did not succeed on its silo: the same type a local pool throws.</summary>
    internal static Exception ErrorOf(JobReply reply, string jobName, string silo, CancellationToken cancellationToken)
    {
        var error = reply.Error;
        var message = error?.Message ?? "(no message)";
        return reply.Outcome switch
        {
            JobOutcome.Faulted => ToRemote(error!, jobName),
            JobOutcome.Canceled => cancellationToken.IsCancellationRequested
                ? new OperationCanceledException(message, null, cancellationToken)
                : new OperationCanceledException($"Job '{jobName}' was cancelled on silo {silo}: {message}"),
            JobOutcome.TimedOut => new TimeoutException($"{message} (on silo {silo})"),
            JobOutcome.WorkerLost => new WorkerLostException(jobName, error?.ProcessId ?? 0, error?.ExitCode, $"on silo {silo}: {message}", []),
            _ => new InvalidOperationException($"Silo {silo} could not run job '{jobName}': {message}"),
        };
    }

    internal static RemoteJobException ToRemote(RemoteFault fault, string jobName) =>
        new(jobName, fault.TypeHierarchy, fault.Message, fault.StackTrace, fault.Inner?.Select(i => ToRemote(i, jobName)).ToArray());

    public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(argumentSets);
        ThrowIfNotAccepting();
        CheckTarget<TResult>(target);
        return ClusterMap<TResult>.Start(this, target, new ArgumentSetSource(this, target, argumentSets), options, cancellationToken);
    }

    public PoolResult<TResult> InvokeEach<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(items);
        ThrowIfNotAccepting();
        CheckTarget<TResult>(target);
        IMapSource source = target.ParameterTypes.Count == 1 && target.ParameterTypes[0] == typeof(TItem)
            ? new ValueSource<TItem>(this, target, items)
            : new ArgumentSetSource(this, target, ArgumentSets.Of(items));
        return ClusterMap<TResult>.Start(this, target, source, options, cancellationToken);
    }

    /// <summary>A job's arguments in the pool's invoke layout; a bad argument throws here and nothing is sent.</summary>
    internal byte[] WriteArguments(JobTarget target, object?[] arguments)
    {
        using var buffer = new PooledBufferWriter();
        Arguments.WriteArguments(target, arguments, buffer);
        Arguments.ThrowIfTooLarge(target, buffer.WrittenCount);
        return buffer.WrittenMemory.ToArray();
    }

    private static void CheckTarget<TResult>(JobTarget target)
    {
        if (target.ProgressType is not null)
        {
            throw new ArgumentException(
                $"Job '{target.Name}' takes an IProgress<T>; a cluster pool does not carry progress reports back from its silos. Use a local pool for it, or report through the job's result.",
                nameof(target));
        }

        // A request's job class is found on the silo, which checks its result there.
        if (target.Kind != JobTargetKind.Request)
        {
            PoolEngine.ThrowIfResultDoesNotFit<TResult>(target);
        }
    }

    private void ThrowIfNotAccepting()
    {
        switch (Volatile.Read(ref _state))
        {
            case 0:
                throw new InvalidOperationException($"The cluster process pool '{DisplayName}' has not been started (its hosted service starts it).");
            case 2:
                throw new ObjectDisposedException(DisplayName, $"The cluster process pool '{DisplayName}' is closed and takes no more jobs.");
        }
    }

    public ProcessPoolStatus GetStatus()
    {
        var silos = Directory.Silos.OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
        var reports = silos.Select(s => (Silo: s, Report: s.Report)).ToArray();
        return new ProcessPoolStatus
        {
            Name = Name,
            IsAcceptingJobs = Volatile.Read(ref _state) == 1 && silos.Length > 0,
            Processes = reports.Sum(r => r.Report?.Workers.Length ?? 0),
            ChildConcurrency = 0,
            Workers = [.. reports.SelectMany(r => (r.Report?.Workers ?? []).Select(w => new WorkerStatus
            {
                WorkerId = w.WorkerId,
                ProcessId = w.ProcessId,
                State = (WorkerState)w.State,
                InFlight = w.InFlight,
                Completed = w.Completed,
                Node = r.Silo.Name,
            }))],
            QueueLengths = [.. reports.Select(r => r.Report?.Queued ?? 0)],
            InFlight = silos.Sum(s => s.InFlight),
            WorkerRestarts = reports.Sum(r => r.Report?.WorkerRestarts ?? 0),
            StartFailure = silos.Length == 0 ? "No silo of the cluster runs the process pool execution grain." : null,
        };
    }

    /// <summary>Asks every silo for its pool's workers, then returns <see cref="GetStatus"/>.</summary>
    public async Task<ProcessPoolStatus> RefreshStatusAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(Directory.Silos.Select(Directory.RefreshAsync)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return GetStatus();
    }

    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) == 2)
        {
            return;
        }

        await Directory.DisposeAsync().ConfigureAwait(false);
        Telemetry.Dispose();
    }

    /// <summary>Cancels what this front end has in flight; the silos' pools cancel the jobs in their workers.</summary>
    public async Task TerminateAsync()
    {
        await _closed.CancelAsync().ConfigureAwait(false);
        await CloseAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(CloseAsync());
}
