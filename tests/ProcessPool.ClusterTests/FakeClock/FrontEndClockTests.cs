using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProcessPools.Orleans;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.FrontEnd;

namespace ProcessPools.ClusterTests.FakeClock;

/// <summary>
/// A cluster pool's front end under a fake clock: the wait for a silo, the job timeout and the check of calls in flight
/// run on the injected <see cref="TimeProvider"/>, so they are tested here to the tick, without waiting.
/// </summary>
public sealed class FrontEndClockTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10); // how long the test waits for the pool to react to a tick (real time)

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static (ClusterProcessPool Pool, FakeCluster Cluster, FakeTimeProvider Time) Create(Action<ClusterProcessPoolOptions>? configure = null)
    {
        var cluster = new FakeCluster();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new ClusterProcessPoolOptions { SiloWaitTimeout = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        var pool = new ClusterProcessPool("fake", options, cluster, cluster.GrainOf, NullLoggerFactory.Instance, time, meterFactory: null);
        pool.Start();
        return (pool, cluster, time);
    }

    private static JobTarget Square => JobTarget.FromMethod(typeof(ClusterJobs).GetMethod(nameof(ClusterJobs.SquareAsync))!);

    [Fact]
    public async Task A_call_waits_SiloWaitTimeout_on_the_pools_clock_for_a_silo_then_fails_naming_the_pool()
    {
        var (pool, _, time) = Create();
        await using var owned = pool;

        var call = pool.InvokeAsync<int>(Square, [3], null, Token);
        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(50, Token); // the pool's continuation of that tick, if it wrongly had one, runs now
        Assert.False(call.IsCompleted, "the call gave up before SiloWaitTimeout");

        time.Advance(TimeSpan.FromSeconds(2));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => call.WaitAsync(Patience, Token));
        Assert.Contains("cluster pool 'fake'", failure.Message);
        Assert.Contains("SiloWaitTimeout", failure.Message);
    }

    [Fact]
    public async Task A_silo_that_joins_takes_a_waiting_call_before_the_wait_runs_out()
    {
        var (pool, cluster, time) = Create();
        await using var owned = pool;

        var call = pool.InvokeAsync<int>(Square, [3], null, Token);
        time.Advance(TimeSpan.FromSeconds(20));
        var silo = FakeCluster.Silo(11111);
        cluster.SetSilos(silo);

        var (sent, reply, _) = await cluster.Grains[silo].Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        reply.SetResult(new JobReply { Outcome = JobOutcome.Succeeded, Result = pool.Payloads.Serializer is { } s ? Serialize(s, 9) : null });
        Assert.Equal(9, await call.WaitAsync(Patience, Token));
        Assert.Equal(Square.Name, sent.Job.Name);
    }

    [Fact]
    public async Task A_job_timeout_runs_on_the_pools_clock_and_cancels_the_call_on_its_silo()
    {
        var (pool, cluster, time) = Create(o => o.JobTimeout = TimeSpan.FromSeconds(10));
        await using var owned = pool;
        var silo = FakeCluster.Silo(11112);
        cluster.SetSilos(silo);

        var call = pool.InvokeAsync<int>(Square, [3], null, Token);
        var (_, _, crossing) = await cluster.Grains[silo].Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(50, Token);
        Assert.False(call.IsCompleted, "the job timed out early");
        Assert.False(crossing.IsCancellationRequested);

        time.Advance(TimeSpan.FromSeconds(2));
        var failure = await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(Patience, Token));
        Assert.Contains("00:00:10", failure.Message);
        Assert.True(crossing.IsCancellationRequested, "the silo's token (which reaches its worker) was not cancelled");
    }

    [Fact]
    public async Task A_call_its_silo_never_received_is_sent_again_after_two_checks_without_spending_a_retry()
    {
        var (pool, cluster, time) = Create(o => o.MaxRetries = 0);
        await using var owned = pool;
        var silo = FakeCluster.Silo(11113);
        cluster.SetSilos(silo);
        var grain = cluster.Grains[silo];

        var call = pool.InvokeAsync<int>(Square, [4], null, Token);
        var (first, _, _) = await grain.Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);

        // Checks run every 2 s on the pool's clock, about calls older than 2 s: the first tick finds none old enough.
        await TickAsync(time, grain, expectCheck: false);
        Assert.Equal([first.CallId], (await TickAsync(time, grain, expectCheck: true))!);  // strike one
        Assert.Equal([first.CallId], (await TickAsync(time, grain, expectCheck: true))!);  // strike two: never received

        // Sent again (MaxRetries is 0, yet no retry was spent: it never ran), after a short pause on the pool's clock.
        time.Advance(TimeSpan.FromSeconds(1));
        var (second, reply, _) = await grain.Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        Assert.NotEqual(first.CallId, second.CallId);
        reply.SetResult(new JobReply { Outcome = JobOutcome.Succeeded, Result = Serialize(pool.Payloads.Serializer, 16) });
        Assert.Equal(16, await call.WaitAsync(Patience, Token));
    }

    [Fact]
    public async Task A_call_whose_answer_was_lost_takes_the_reply_its_silo_kept_and_runs_once()
    {
        var (pool, cluster, time) = Create(o => o.MaxRetries = 0);
        await using var owned = pool;
        var silo = FakeCluster.Silo(11117);
        cluster.SetSilos(silo);
        var grain = cluster.Grains[silo];
        var kept = new JobReply { Outcome = JobOutcome.Succeeded, Result = Serialize(pool.Payloads.Serializer, 49) };
        grain.OnCheck = calls => new CallCheck { Unknown = [], Answered = [.. calls.Select(c => new AnsweredCall { Id = c, Reply = kept })] };

        var call = pool.InvokeAsync<int>(Square, [7], null, Token);
        await grain.Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token); // its first answer never comes
        await TickAsync(time, grain, expectCheck: false);
        await TickAsync(time, grain, expectCheck: true);

        Assert.Equal(49, await call.WaitAsync(Patience, Token));
        Assert.False(grain.Calls.Reader.TryRead(out _), "the job was sent a second time");
    }

    [Fact]
    public async Task A_call_whose_answer_was_lost_and_no_longer_kept_spends_a_retry()
    {
        var (pool, cluster, time) = Create(o => o.MaxRetries = 0);
        await using var owned = pool;
        var silo = FakeCluster.Silo(11114);
        cluster.SetSilos(silo);
        var grain = cluster.Grains[silo];
        grain.OnCheck = calls => new CallCheck { Unknown = [], Answered = [.. calls.Select(c => new AnsweredCall { Id = c })] };

        var call = pool.InvokeAsync<int>(Square, [4], null, Token);
        await grain.Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        await TickAsync(time, grain, expectCheck: false);
        await TickAsync(time, grain, expectCheck: true);
        await TickAsync(time, grain, expectCheck: true);

        var failure = await Assert.ThrowsAsync<SiloLostException>(() => call.WaitAsync(Patience, Token));
        Assert.Equal(1, failure.Attempts);
        Assert.Equal(silo.ToString(), failure.Silo);
    }

    [Fact]
    public async Task A_draining_silo_gets_no_more_calls_and_its_refusal_spends_no_retry()
    {
        var (pool, cluster, _) = Create(o => o.MaxRetries = 0);
        await using var owned = pool;
        SiloAddress draining = FakeCluster.Silo(11115), other = FakeCluster.Silo(11116);
        cluster.SetSilos(draining);
        var call = pool.InvokeAsync<int>(Square, [5], null, Token);
        var (_, refused, _) = await cluster.Grains[draining].Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        cluster.SetSilos(draining, other);
        await WaitUntilAsync(() => pool.Directory.Silos.Count(s => s.Capacity > 0) == 2);

        refused.SetResult(new JobReply { Outcome = JobOutcome.Draining, Error = new RemoteFault { TypeHierarchy = [], Message = "stopping" } });
        var (_, reply, _) = await cluster.Grains[other].Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        reply.SetResult(new JobReply { Outcome = JobOutcome.Succeeded, Result = Serialize(pool.Payloads.Serializer, 25) });
        Assert.Equal(25, await call.WaitAsync(Patience, Token));
        Assert.True(pool.Directory.Silos.Single(s => s.Address.Equals(draining)).IsDraining);

        // Every later call goes to the other silo.
        var next = pool.InvokeAsync<int>(Square, [6], null, Token);
        var (_, nextReply, _) = await cluster.Grains[other].Calls.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
        nextReply.SetResult(new JobReply { Outcome = JobOutcome.Succeeded, Result = Serialize(pool.Payloads.Serializer, 36) });
        Assert.Equal(36, await next.WaitAsync(Patience, Token));
        Assert.False(cluster.Grains[draining].Calls.Reader.TryRead(out _));
    }

    /// <summary>Advances the clock by one check interval and returns the calls the silo was asked about, if it was.</summary>
    private static async Task<long[]?> TickAsync(FakeTimeProvider time, FakeGrain grain, bool expectCheck)
    {
        time.Advance(SiloDirectory.CallCheckInterval);
        if (!expectCheck)
        {
            await Task.Delay(100, Token); // a check, if one wrongly came, would be in the channel by now
            Assert.False(grain.Checks.Reader.TryRead(out var early), $"the silo was asked about calls younger than the check interval: {string.Join(", ", early ?? [])}");
            return null;
        }

        return await grain.Checks.Reader.ReadAsync(Token).AsTask().WaitAsync(Patience, Token);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(Patience);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token); // the grain's report arrives on a task of the directory's: no event reaches the test
        }
    }

    private static byte[] Serialize(IJobSerializer serializer, int value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        serializer.Serialize(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }
}
