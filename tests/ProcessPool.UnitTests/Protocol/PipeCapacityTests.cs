using System.IO.Pipes;
using ProcessPools.Channels;

namespace ProcessPools.UnitTests.Protocol;

/// <summary>
/// A channel pipe's capacity: which OS grows it, to what size, within what budget; and on Linux a real pipe grown for
/// its first large frame only, its share of the budget given back when its channel closes.
/// </summary>
public sealed class PipeCapacityTests
{
    [Theory]
    [InlineData(nameof(HostOs.Linux), true)]
    [InlineData(nameof(HostOs.MacOS), false)]
    [InlineData(nameof(HostOs.Windows), false)]
    [InlineData(nameof(HostOs.OtherUnix), false)]
    public void Only_Linux_grows_an_open_pipe(string os, bool grows) => Assert.Equal(grows, PipeCapacity.CanGrow(Enum.Parse<HostOs>(os)));

    [Theory]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData(16 << 20, 1 << 20)] // a root-raised limit: still 1 MiB, the gain is in the first MiB
    [InlineData(256 << 10, 256 << 10)] // an administrator's lower limit is kept
    [InlineData(64 << 10, 0)] // nothing past the default: nothing to grow
    [InlineData(4096, 0)]
    public void The_size_asked_for_is_1_MiB_within_the_system_limit(long maxPipeSize, int expected) =>
        Assert.Equal(expected, PipeCapacity.TargetSize(maxPipeSize));

    [Theory]
    [InlineData(16384, 8192)] // Linux's default soft limit: half of it, 32 pipes of 1 MiB
    [InlineData(1000, 500)]
    [InlineData(0, long.MaxValue)] // no soft limit
    public void The_budget_is_half_the_users_soft_limit(long softLimitPages, long expected) =>
        Assert.Equal(expected, PipeCapacity.BudgetPages(softLimitPages));

    [Fact]
    public void A_real_pipe_grows_for_its_first_large_frame_only_and_gives_its_share_back_when_closed()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "only Linux grows an open pipe (F_SETPIPE_SZ)");
        const int Size = 256 * 1024; // within any system's pipe-max-size (1 MiB by default)
        var budget = new PipeCapacity.Budget(Size, Size / 4096); // room for one grown pipe
        using var first = new AnonymousPipeServerStream(PipeDirection.Out);
        using var second = new AnonymousPipeServerStream(PipeDirection.Out);
        var firstCapacity = PipeCapacity.For(first.SafePipeHandle, budget);
        var secondCapacity = PipeCapacity.For(second.SafePipeHandle, budget);
        Assert.Equal(PipeCapacity.Default, PipeCapacity.Read(first.SafePipeHandle));

        firstCapacity.Ensure(1000);
        firstCapacity.Ensure(PipeCapacity.Default); // a frame that fits is no reason
        Assert.Equal(PipeCapacity.Default, PipeCapacity.Read(first.SafePipeHandle));

        firstCapacity.Ensure(PipeCapacity.Default + 1);
        Assert.Equal(Size, PipeCapacity.Read(first.SafePipeHandle));
        Assert.Equal(0, budget.Left);

        // The budget is spent: the second pipe keeps its size, and does not try again later.
        secondCapacity.Ensure(2 << 20);
        Assert.Equal(PipeCapacity.Default, PipeCapacity.Read(second.SafePipeHandle));

        firstCapacity.Dispose();
        Assert.Equal(Size / 4096, budget.Left);
        secondCapacity.Ensure(2 << 20);
        Assert.Equal(PipeCapacity.Default, PipeCapacity.Read(second.SafePipeHandle));

        // A third channel gets the share the first gave back.
        using var third = new AnonymousPipeServerStream(PipeDirection.Out);
        using var thirdCapacity = PipeCapacity.For(third.SafePipeHandle, budget);
        thirdCapacity.Ensure(2 << 20);
        Assert.Equal(Size, PipeCapacity.Read(third.SafePipeHandle));
        Assert.Equal(0, budget.Left);
    }
}
