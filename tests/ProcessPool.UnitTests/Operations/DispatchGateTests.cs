using ProcessPools.Supervision;

namespace ProcessPools.UnitTests;

public sealed class DispatchGateTests
{
    [Fact]
    public async Task A_closed_gate_holds_its_waiters_until_it_opens_and_an_open_one_holds_nobody()
    {
        var gate = new DispatchGate();
        Assert.True(gate.IsOpen);
        Assert.True(gate.WaitOpenAsync(CancellationToken.None).IsCompletedSuccessfully);

        Assert.True(gate.Close());
        Assert.False(gate.Close()); // closed already
        var waiting = gate.WaitOpenAsync(CancellationToken.None);
        Assert.False(gate.IsOpen);
        Assert.False(waiting.IsCompleted);

        Assert.True(gate.Open());
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(gate.Open()); // open already
        Assert.True(gate.IsOpen);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_is_cancelled_and_the_gate_stays_closed()
    {
        var gate = new DispatchGate();
        gate.Close();
        using var stop = new CancellationTokenSource();
        var waiting = gate.WaitOpenAsync(stop.Token);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(gate.IsOpen);
    }
}
