using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.Telemetry;
using ProcessPools.Transport;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>
/// An <see cref="IProcessPool"/> over a Microsoft Orleans cluster: each job, or chunk of a map's items, goes to the silo
/// with the most free worker slots, whose execution grain runs it on that silo's local pool. Arguments and results cross
/// as the job serializer's bytes (<see cref="JobPayloads"/>). A call that never reached a silo's pool is sent again
/// without counting against the job's retries; a silo that leaves the cluster with a job answers it at once: retried on
/// another silo (<see cref="ClusterProcessPoolOptions.MaxRetries"/>) or failed with <see cref="SiloLostException"/>.
/// </summary>
internal sealed class ClusterProcessPool : IProcessPoolOwner
{
    private readonly CancellationTokenSource _closed = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private long _lastCallId;
    private int _liveMaps;
    private int _state; // 0 created, 1 running, 2 closed

    public ClusterProcessPool(
        string name,
        ClusterProcessPoolOptions options,
        IClusterManifestProvider manifests,
        IGrainFactory grains,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        IMeterFactory? meterFactory)
        : this(name, options, manifests, silo => grains.GetGrain<IProcessPoolGrain>(Placement.SiloPinnedPlacementDirector.KeyOf(silo, options.SiloPool)), loggerFactory, time, meterFactory)
    {
    }

    /// <param name="name">The pool's name.</param>
    /// <param name="options">Its validated options.</param>
    /// <param name="manifests">The cluster manifest: which silos run the execution grain.</param>
    /// <param name="grainOf">The reference of a silo's execution grain (a fake in the fake-clock unit tests).</param>
    /// <param name="loggerFactory">The application's logging.</param>
    /// <param name="time">The clock of every timeout and wait.</param>
    /// <param name="meterFactory">Creates the pool's meter; without one, the pool owns a meter of its own.</param>
    internal ClusterProcessPool(
        string name,
        ClusterProcessPoolOptions options,
        IClusterManifestProvider manifests,
        Func<SiloAddress, IProcessPoolGrain> grainOf,
        ILoggerFactory loggerFactory,
        TimeProvider time,
        IMeterFactory? meterFactory)
    {
        Name = name;
        DisplayName = name.Length == 0 ? DefaultPoolName : name;
        Options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger(Log.FrontEndCategory);
        Directory = new SiloDirectory(manifests, grainOf, options.SiloPool, DisplayName, time, _logger);
        Telemetry = new ClusterTelemetry(name, meterFactory, () => Directory.Silos.Select(s => (s.Name, s.InFlight)));
        Payloads = new JobPayloads(options.Serializer, options.MaxMessageSize);
    }

    public string Name { get; }

    public ClusterProcessPoolOptions Options { get; }

    /// <summary>The pool's name as messages show it.</summary>
    internal string DisplayName { get; }

    internal SiloDirectory Directory { get; }

    internal ClusterTelemetry Telemetry { get; }

    internal JobPayloads Payloads { get; }

    internal CancellationToken Closed => _closed.Token;

    /// <summary>Whether the pool runs: started, not closed.</summary>
    internal bool IsRunning => Volatile.Read(ref _state) == 1;

    /// <summary>What an operator sees of the pool and does to it, through its silos.</summary>
    internal ClusterOperator Operator => field ??= new ClusterOperator(this, _time);

    /// <summary>The maps that have not ended yet (their input, their calls and their registration on the pool's closing).</summary>
    internal int LiveMaps => Volatile.Read(ref _liveMaps);

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
        var bytes = Payloads.WriteArguments(target, arguments);
        return RunAsync<TResult>(target, bytes, options, cancellationToken);
    }

    private async Task<TResult> RunAsync<TResult>(JobTarget target, byte[] arguments, JobOptions? options, CancellationToken cancellationToken)
    {
        var call = new JobCall { Job = JobIdentity.Of(target), Arguments = arguments };
        var timeout = options?.Timeout ?? Options.JobTimeout;
        var retries = options?.MaxRetries ?? Options.MaxRetries;
        using var activity = Telemetry.StartJob(target.Name);
        var (reply, silo, _) = await SendAsync(target.Name, 1, timeout, retries, (grain, frontEnd, id, token) => grain.InvokeAsync(call with { FrontEnd = frontEnd, CallId = id }, token), acquired: null, cancellationToken).ConfigureAwait(false);
        if (reply.Outcome != JobOutcome.Succeeded)
        {
            var error = CallFailures.ErrorOf(reply, target.Name, silo, cancellationToken);
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            throw error;
        }

        return Payloads.ReadResult<TResult>(target, new ReadOnlySequence<byte>(reply.Result ?? []));
    }

    /// <summary>
    /// Sends a job or chunk to a silo and waits for its answer. A call that never reached a silo's pool (no live gateway,
    /// a placement that failed, a silo that drains, a request lost on the way) is sent again, to another silo where there
    /// is one, without counting against <paramref name="maxRetries"/>, for at most <see cref="ClusterProcessPoolOptions.SiloWaitTimeout"/>
    /// in a row; a call whose silo was lost while it may have run is sent again while retries are left.
    /// </summary>
    /// <param name="jobName">The job, for messages.</param>
    /// <param name="items">How many items the call carries, for metrics.</param>
    /// <param name="timeout">The job's timeout, from here to the answer.</param>
    /// <param name="maxRetries">How many more times it may run when a run may have happened on a silo that was lost.</param>
    /// <param name="call">The grain call.</param>
    /// <param name="acquired">A place already taken on a silo (<see cref="SiloDirectory.AcquireAsync"/>) for the first attempt; released here.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    /// <returns>The answer, the silo that gave it, and how long that silo took (from sending to answer).</returns>
    internal async Task<(JobReply Reply, string Silo, TimeSpan Elapsed)> SendAsync(
        string jobName, int items, TimeSpan? timeout, int maxRetries, Func<IProcessPoolGrain, Guid, long, CancellationToken, Task<JobReply>> call, SiloEntry? acquired, CancellationToken cancellationToken)
    {
        // One token for the call: the caller's, the pool's termination, and the job's timeout on the pool's clock.
        using var deadline = timeout is { } limit ? new CancellationTokenSource(limit, _time) : null;
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token, deadline?.Token ?? default);
        var token = scope.Token;

        // Orleans carries a token's cancellation to the silo, at a cost per call: only a token that can fire goes there.
        // The pool's termination and a lost silo end the wait here, and need not reach the silo.
        var crossing = cancellationToken.CanBeCanceled || timeout is not null ? token : CancellationToken.None;
        bool TimedOutNow() => deadline is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested && !_closed.IsCancellationRequested;
        SiloEntry? avoid = null;
        var runs = 0;
        long? unreachedSince = null;
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            SiloEntry silo;
            try
            {
                silo = acquired ?? await Directory.AcquireAsync(avoid, Options.SiloWaitTimeout, token).ConfigureAwait(false);
                acquired = null;
            }
            catch (OperationCanceledException) when (TimedOutNow())
            {
                throw CallFailures.TimedOut(jobName, timeout!.Value, "before a silo took it");
            }

            Activity.Current?.SetTag(Tags.Silo, silo.Name);
            var started = _time.GetTimestamp();
            var callId = Interlocked.Increment(ref _lastCallId);
            using var inFlight = new InFlightCall(callId, started);
            silo.Calls[callId] = inFlight;
            string? notReached = null;
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, silo.Lost, inFlight.Orphaned);
                JobReply reply;
                try
                {
                    reply = await call(silo.Grain, Directory.FrontEnd, callId, crossing).WaitAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (inFlight.Recovered is { } recovered && !token.IsCancellationRequested)
                {
                    reply = recovered; // its first answer was lost on the way; the silo sent it again
                }

                switch (reply.Outcome)
                {
                    case JobOutcome.Draining:
                        Directory.MarkDraining(silo);
                        notReached = $"it drains: {reply.Error?.Message}";
                        break;
                    case JobOutcome.SiloStopping:
                        throw new SiloUnavailableException($"Silo {silo.Name} is shutting down and ended the job unfinished: {reply.Error?.Message}");
                    default:
                        var elapsed = _time.GetElapsedTime(started);
                        Telemetry.OnAnswered(silo.Name, items, CallFailures.OutcomeOf(reply.Outcome), elapsed);
                        return (reply, silo.Name, elapsed);
                }
            }
            catch (Exception exception) when (!token.IsCancellationRequested && CallFailures.NeverReached(exception, silo, inFlight) is { } reason)
            {
                notReached = reason;
            }
            catch (Exception exception) when (!token.IsCancellationRequested && (silo.IsLost || inFlight.IsOrphaned || exception is SiloUnavailableException))
            {
                // It may have run there, in part: one of the job's retries, if it has any left.
                Telemetry.OnAnswered(silo.Name, items, Outcomes.SiloLost, _time.GetElapsedTime(started));
                if (!silo.IsLost && !inFlight.IsOrphaned)
                {
                    Directory.Suspect(silo);
                }

                if (++runs > maxRetries)
                {
                    throw new SiloLostException(jobName, silo.Name, runs, silo.IsLost || inFlight.IsOrphaned ? null : exception);
                }

                avoid = silo;
                unreachedSince = null;
                continue;
            }
            catch (OperationCanceledException) when (TimedOutNow())
            {
                Telemetry.OnAnswered(silo.Name, items, Outcomes.TimedOut, _time.GetElapsedTime(started));
                throw CallFailures.TimedOut(jobName, timeout!.Value, $"it was cancelled in its worker on silo {silo.Name}");
            }
            finally
            {
                silo.Calls.TryRemove(callId, out _);
                Directory.Release(silo);
            }

            // Never reached the silo's pool: sent again freely, elsewhere if another silo can take it, after a pause that
            // grows while nothing can be reached (a front end whose gateways are all marked dead learns of live ones again).
            Telemetry.OnResent(silo.Name);
            Log.CallResent(_logger, DisplayName, jobName, silo.Name, notReached!);
            unreachedSince ??= _time.GetTimestamp();
            if (_time.GetElapsedTime(unreachedSince.Value) > Options.SiloWaitTimeout)
            {
                throw new SiloLostException(jobName, silo.Name, runs, new InvalidOperationException(
                    $"No silo's pool could be reached for {Options.SiloWaitTimeout} (SiloWaitTimeout); the last said: {notReached}"));
            }

            avoid = silo;
            if (!silo.IsDraining)
            {
                Directory.Suspect(silo);
                try
                {
                    await Task.Delay(pause, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (TimedOutNow())
                {
                    throw CallFailures.TimedOut(jobName, timeout!.Value, "before a silo's pool could be reached");
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.TicksPerSecond));
            }
        }
    }

    public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(argumentSets);
        ThrowIfNotAccepting();
        CheckTarget<TResult>(target);
        return ClusterMap<TResult>.Start(this, target, new ArgumentSetSource(argumentSets), expectedCount: 0, options, cancellationToken);
    }

    public PoolResult<TResult> InvokeEach<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(items);
        ThrowIfNotAccepting();
        CheckTarget<TResult>(target);
        var typed = target.ParameterTypes.Count == 1 && target.ParameterTypes[0] == typeof(TItem);
        return ClusterMap<TResult>.Start(this, target, new ValueSource<TItem>(items, typed), items.TryGetNonEnumeratedCount(out var count) ? count : 0, options, cancellationToken);
    }

    /// <summary>A map started: it counts until it ended (<see cref="LiveMaps"/>).</summary>
    internal void OnMapStarted() => Interlocked.Increment(ref _liveMaps);

    internal void OnMapEnded() => Interlocked.Decrement(ref _liveMaps);

    private void CheckTarget<TResult>(JobTarget target)
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
            JobPayloads.ThrowIfResultDoesNotFit<TResult>(target);
        }

        // What crosses (the request or the arguments, and the result) must read back on the other side.
        Payloads.ThrowIfUnreadable(target);
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

    /// <summary>Asks every silo for its pool's workers, then answers with every silo's workers, each naming its silo.</summary>
    public async ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(Directory.Silos.Select(Directory.RefreshAsync)).WaitAsync(cancellationToken).ConfigureAwait(false);
        return Snapshot();
    }

    /// <summary>The status as last reported by the silos, without asking them.</summary>
    internal ProcessPoolStatus Snapshot()
    {
        var silos = Directory.Silos.OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
        var reports = silos.Select(s => s.Report).ToArray();
        return new ProcessPoolStatus
        {
            Name = Name,
            IsAcceptingJobs = Volatile.Read(ref _state) == 1 && silos.Any(s => !s.IsDraining),
            Processes = reports.Sum(r => r?.Workers.Length ?? 0),
            ChildConcurrency = 0,
            Workers = [.. reports.SelectMany(r => r?.Workers ?? []).Select(w => w.ToStatus())], // each naming its silo
            QueueLengths = [.. reports.Select(r => r?.Queued ?? 0)],
            InFlight = silos.Sum(s => s.InFlight),
            WorkerRestarts = reports.Sum(r => r?.WorkerRestarts ?? 0),
            StartFailure = silos.Length == 0 ? "No silo of the cluster runs the process pool execution grain." : null,
        };
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
