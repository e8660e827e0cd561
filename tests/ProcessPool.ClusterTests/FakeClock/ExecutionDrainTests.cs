using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProcessPools.Orleans.Execution;

namespace ProcessPools.ClusterTests.FakeClock;

/// <summary>A silo's drain (its graceful stop) and its memory of answered calls, under a fake clock.</summary>
public sealed class ExecutionDrainTests
{
    private static readonly Guid FrontEnd = Guid.NewGuid();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_drain_refuses_new_calls_and_waits_for_the_running_ones()
    {
        var time = new FakeTimeProvider();
        var drain = new ExecutionDrain(time, NullLoggerFactory.Instance);
        Assert.True(drain.TryEnter((FrontEnd, 1), TimeSpan.FromSeconds(30)));

        var draining = drain.DrainAsync(Token);
        Assert.True(drain.IsDraining);
        Assert.False(drain.TryEnter((FrontEnd, 2), TimeSpan.FromSeconds(30)), "a call was taken while the silo drains");
        Assert.False(draining.IsCompleted, "the drain ended with a call still running");

        drain.Exit((FrontEnd, 1));
        await draining.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(0, drain.Running);
    }

    [Fact]
    public async Task A_drain_gives_up_after_the_largest_ShutdownTimeout_on_the_silos_clock()
    {
        var time = new FakeTimeProvider();
        var drain = new ExecutionDrain(time, NullLoggerFactory.Instance);
        Assert.True(drain.TryEnter((FrontEnd, 1), TimeSpan.FromSeconds(5)));
        Assert.True(drain.TryEnter((FrontEnd, 2), TimeSpan.FromSeconds(20)));

        var draining = drain.DrainAsync(Token);
        time.Advance(TimeSpan.FromSeconds(19));
        await Task.Delay(50, Token);
        Assert.False(draining.IsCompleted, "the drain gave up before the largest ShutdownTimeout of its pools");

        time.Advance(TimeSpan.FromSeconds(2));
        await draining.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(2, drain.Running); // still running: their front ends count them as lost when the silo leaves
    }

    [Fact]
    public void A_check_tells_calls_never_received_from_calls_answered_lately_and_forgets_after_a_while()
    {
        var time = new FakeTimeProvider();
        var drain = new ExecutionDrain(time, NullLoggerFactory.Instance);
        Assert.True(drain.TryEnter((FrontEnd, 1), TimeSpan.Zero));
        Assert.True(drain.TryEnter((FrontEnd, 2), TimeSpan.Zero));
        drain.Exit((FrontEnd, 1));

        var check = drain.Check(FrontEnd, [1, 2, 3]);
        Assert.Equal([1L], check.Answered);
        Assert.Equal([3L], check.Unknown); // 2 runs: neither

        // Answered calls are remembered for at least AnsweredMemory, at most twice that.
        time.Advance(ExecutionDrain.AnsweredMemory + TimeSpan.FromSeconds(1));
        Assert.Equal([1L], drain.Check(FrontEnd, [1]).Answered);
        time.Advance(ExecutionDrain.AnsweredMemory + TimeSpan.FromSeconds(1));
        Assert.Equal([1L], drain.Check(FrontEnd, [1]).Unknown);
    }
}
