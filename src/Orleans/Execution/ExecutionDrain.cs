using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.Telemetry;

namespace ProcessPools.Orleans.Execution;

/// <summary>
/// The cluster jobs a silo runs, and its graceful stop. When the silo begins to stop (the first stage Orleans stops,
/// <see cref="ServiceLifecycleStage.Active"/>: it is still a member and still answers), it drains: new calls are answered
/// <see cref="JobOutcome.Draining"/> without running (their front ends send them elsewhere, retries untouched), and the
/// jobs it runs finish, within the largest <c>ShutdownTimeout</c> of its pools, before the silo leaves. So a silo that
/// stops politely fails and retries no job. It also remembers, for a little while, which calls it answered and, within a
/// budget, their replies: a front end can then tell a call that never arrived (it never ran) from one whose answer was
/// lost on the way back (a gateway between them stopped or died), and take that answer again instead of running it twice.
/// </summary>
internal sealed class ExecutionDrain(TimeProvider time, ILoggerFactory loggerFactory) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long an answered call is remembered: at least this, at most twice this.</summary>
    internal static readonly TimeSpan AnsweredMemory = TimeSpan.FromSeconds(10);

    /// <summary>How long a drained silo goes on refusing calls after the last one it refused, before it leaves.</summary>
    internal static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    /// <summary>The most bytes of replies kept per span of <see cref="AnsweredMemory"/>; past it, only the calls' numbers are.</summary>
    internal const long ReplyBudget = 16 * 1024 * 1024;

    private readonly ConcurrentDictionary<(Guid FrontEnd, long Call), byte> _running = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger(Log.ExecutionCategory);
    private readonly Lock _gate = new();
    private AnsweredSpan _answered = new();
    private AnsweredSpan _answeredBefore = new();
    private long _rotatedAt = time.GetTimestamp();
    private long _drainLimitTicks;
    private long _lastRefusedAt;
    private int _draining;
    private TaskCompletionSource? _idle;

    /// <summary>Whether the silo drains: it takes no new cluster job.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>How many cluster jobs the silo runs.</summary>
    public int Running => _running.Count;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ExecutionDrain), ServiceLifecycleStage.Active, static _ => Task.CompletedTask, DrainAsync);

    /// <summary>Takes a call to run; <see langword="false"/> once the silo drains (the call must not run).</summary>
    /// <param name="call">The front end and its call number.</param>
    /// <param name="shutdownTimeout">The running pool's <c>ShutdownTimeout</c>: the drain waits at most the largest of them.</param>
    public bool TryEnter((Guid FrontEnd, long Call) call, TimeSpan shutdownTimeout)
    {
        var ticks = shutdownTimeout.Ticks;
        for (var limit = Volatile.Read(ref _drainLimitTicks); ticks > limit; limit = Volatile.Read(ref _drainLimitTicks))
        {
            Interlocked.CompareExchange(ref _drainLimitTicks, ticks, limit);
        }

        _running.TryAdd(call, 0);

        // Read after the call is listed (the dictionary's write is a full fence): a drain that began meanwhile either sees
        // it and waits for it, or is seen here and the call is refused. No call runs unseen.
        if (IsDraining)
        {
            Volatile.Write(ref _lastRefusedAt, time.GetTimestamp());
            Exit(call, reply: null);
            return false;
        }

        return true;
    }

    /// <summary>The call ended; with a <paramref name="reply"/>, that reply is on its way to the front end.</summary>
    public void Exit((Guid FrontEnd, long Call) call, JobReply? reply)
    {
        _running.TryRemove(call, out _);
        if (reply is not null)
        {
            RotateIfDue();
            _answered.Add(call, reply);
        }

        if (IsDraining && _running.IsEmpty)
        {
            _idle?.TrySetResult();
        }
    }

    /// <summary>Of a front end's calls, those this silo never received, and those it answered lately.</summary>
    public CallCheck Check(Guid frontEnd, long[] calls)
    {
        RotateIfDue();
        List<long> unknown = [];
        List<AnsweredCall> answered = [];
        foreach (var call in calls)
        {
            var key = (frontEnd, call);
            if (_running.ContainsKey(key))
            {
                continue;
            }

            if (_answered.TryGet(key, out var reply) || _answeredBefore.TryGet(key, out reply))
            {
                answered.Add(new AnsweredCall { Id = call, Reply = reply });
            }
            else
            {
                unknown.Add(call);
            }
        }

        return new CallCheck { Unknown = [.. unknown], Answered = [.. answered] };
    }

    private void RotateIfDue()
    {
        if (time.GetElapsedTime(Volatile.Read(ref _rotatedAt)) < AnsweredMemory)
        {
            return;
        }

        lock (_gate)
        {
            var elapsed = time.GetElapsedTime(_rotatedAt);
            if (elapsed >= AnsweredMemory)
            {
                // Quiet for two spans: both generations are old enough to forget.
                _answeredBefore = elapsed >= 2 * AnsweredMemory ? new AnsweredSpan() : _answered;
                _answered = new();
                Volatile.Write(ref _rotatedAt, time.GetTimestamp());
            }
        }
    }

    /// <summary>The silo's stop: refuse new calls, let the running ones finish within the pools' shutdown timeout.</summary>
    internal async Task DrainAsync(CancellationToken cancellationToken)
    {
        _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _draining, 1);
        var limit = TimeSpan.FromTicks(Volatile.Read(ref _drainLimitTicks));
        var started = time.GetTimestamp();
        if (_running.IsEmpty)
        {
            _idle.TrySetResult();
        }

        Log.DrainStarted(_logger, _running.Count, limit);
        try
        {
            await _idle.Task.WaitAsync(limit, time, cancellationToken).ConfigureAwait(false);

            // Calls sent before their front ends heard "draining" may still be on their way: they are refused as they
            // come (answered "draining": sent elsewhere, retries untouched) until none came for a while, rather than met
            // by a silo that is leaving, where a front end could not tell whether they ran.
            while (true)
            {
                var quietFor = time.GetElapsedTime(Math.Max(started, Volatile.Read(ref _lastRefusedAt)));
                var left = TimeSpan.FromTicks(Math.Min((Quiet - quietFor).Ticks, (limit - time.GetElapsedTime(started)).Ticks));
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                await Task.Delay(left, time, cancellationToken).ConfigureAwait(false);
            }

            Log.DrainCompleted(_logger, time.GetElapsedTime(started));
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.DrainTimedOut(_logger, _running.Count, limit);
        }
    }

    /// <summary>One span's answered calls, with their replies while they fit the budget.</summary>
    private sealed class AnsweredSpan
    {
        private readonly ConcurrentDictionary<(Guid FrontEnd, long Call), JobReply?> _calls = new();
        private long _bytes;

        public void Add((Guid FrontEnd, long Call) call, JobReply reply)
        {
            var size = (reply.Result?.Length ?? 0) + 64;
            _calls.TryAdd(call, Interlocked.Add(ref _bytes, size) <= ReplyBudget ? reply : null);
        }

        public bool TryGet((Guid FrontEnd, long Call) call, out JobReply? reply) => _calls.TryGetValue(call, out reply);
    }
}
