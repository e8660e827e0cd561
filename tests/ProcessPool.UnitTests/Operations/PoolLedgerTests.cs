using ProcessPools.Telemetry;

namespace ProcessPools.UnitTests;

public sealed class PoolLedgerTests
{
    [Fact]
    public void Durations_are_kept_only_while_observed_bounded_and_taken_once()
    {
        var durations = new DurationSampler();
        durations.Add(1.0);
        Assert.False(durations.IsObserving);
        Assert.Empty(durations.Take()); // nothing kept while nobody observes

        var first = durations.Observe();
        var second = durations.Observe();
        for (var i = 0; i < DurationSampler.Capacity + 10; i++)
        {
            durations.Add(0.5);
        }

        Assert.True(durations.IsObserving);
        Assert.Equal(DurationSampler.Capacity, durations.Take().Count); // bounded between takes
        Assert.Empty(durations.Take()); // taken once
        durations.Add(0.25);
        first.Dispose();
        first.Dispose(); // once only
        Assert.True(durations.IsObserving);
        second.Dispose();
        Assert.False(durations.IsObserving);
        Assert.Empty(durations.Take()); // the last observer's leaving drops what was left
    }

    [Fact]
    public void Answers_are_counted_by_outcome_and_failures_kept_newest_first_up_to_the_capacity()
    {
        var ledger = new PoolLedger(TimeProvider.System);
        ledger.Count(succeeded: 5, failed: 2, cancelled: 1);
        ledger.OnRetried();
        for (var i = 0; i < PoolLedger.FailureCapacity + 5; i++)
        {
            ledger.OnFailed(i, "Jobs.Fail", 1, "failed", new InvalidOperationException($"failure {i}"), processId: 42, standardErrorTail: ["a line"]);
        }

        Assert.Equal((5L, 2L, 1L, 1L), (ledger.Succeeded, ledger.Failed, ledger.Cancelled, ledger.Retried));
        var failures = ledger.Failures.NewestFirst();
        Assert.Equal(PoolLedger.FailureCapacity, failures.Count);
        Assert.Equal($"failure {PoolLedger.FailureCapacity + 4}", failures[0].Message);
        Assert.Equal(("System.InvalidOperationException", 42, "a line"), (failures[0].ExceptionType, failures[0].ProcessId, failures[0].StandardErrorTail[0]));
    }
}
