using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ProcessPools.Orleans.Contracts;
using ProcessPools.Orleans.Execution;

namespace ProcessPools.ClusterTests.FakeClock;

/// <summary>A silo's drain (its graceful stop) and its memory of answered calls, under a fake clock.</summary>
public sealed class ExecutionDrainTests
{
    private static readonly Guid FrontEnd = Guid.NewGuid();

    private static readonly JobReply Done = new() { Outcome = JobOutcome.Succeeded, Result = [1, 2, 3] };

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

        drain.Exit((FrontEnd, 1), Done);
        await Task.Delay(50, Token);
        Assert.False(draining.IsCompleted, "the drain left at once, while calls sent before 'draining' was heard may still arrive");

        // It refuses what still comes, and leaves once nothing came for a while (Quiet), on the silo's clock.
        time.Advance(ExecutionDrain.Quiet / 2);
        Assert.False(drain.TryEnter((FrontEnd, 3), TimeSpan.FromSeconds(30)));
        time.Advance(ExecutionDrain.Quiet / 2);
        await Task.Delay(50, Token);
        Assert.False(draining.IsCompleted, "the quiet time did not start again with the last refused call");
        time.Advance(ExecutionDrain.Quiet);
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
        drain.Exit((FrontEnd, 1), Done);

        var check = drain.Check(FrontEnd, [1, 2, 3]);
        Assert.Equal(1L, Assert.Single(check.Answered).Id);
        Assert.Same(Done, check.Answered[0].Reply); // kept, so the front end takes it again instead of running the job twice
        Assert.Equal([3L], check.Unknown); // 2 runs: neither

        // Answered calls are remembered for at least AnsweredMemory, at most twice that.
        time.Advance(ExecutionDrain.AnsweredMemory + TimeSpan.FromSeconds(1));
        Assert.Equal(1L, Assert.Single(drain.Check(FrontEnd, [1]).Answered).Id);
        time.Advance(ExecutionDrain.AnsweredMemory + TimeSpan.FromSeconds(1));
        Assert.Equal([1L], drain.Check(FrontEnd, [1]).Unknown);
    }

    [Fact]
    public void Replies_are_kept_within_a_budget_then_only_the_calls_numbers()
    {
        var drain = new ExecutionDrain(new FakeTimeProvider(), NullLoggerFactory.Instance);
        var large = new JobReply { Outcome = JobOutcome.Succeeded, Result = new byte[ExecutionDrain.ReplyBudget / 2] };
        for (var call = 1L; call <= 3; call++)
        {
            Assert.True(drain.TryEnter((FrontEnd, call), TimeSpan.Zero));
            drain.Exit((FrontEnd, call), large);
        }

        var answered = drain.Check(FrontEnd, [1, 2, 3]).Answered.OrderBy(a => a.Id).ToArray();
        Assert.Equal([1L, 2L, 3L], answered.Select(a => a.Id));
        Assert.NotNull(answered[0].Reply);
        Assert.Null(answered[2].Reply); // over the budget: still known as answered (it ran), its reply not kept
    }
}
