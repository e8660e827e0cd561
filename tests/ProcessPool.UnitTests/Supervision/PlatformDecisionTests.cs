using System.Runtime.InteropServices;
using ProcessPools.Channels;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>The OS decisions of the channel and of worker containment, with the OS as a parameter: what each OS would do.</summary>
public sealed class PlatformDecisionTests
{
    [Theory]
    [InlineData("Linux", Architecture.X64, "Fcntl")]
    [InlineData("Linux", Architecture.Arm64, "Fcntl")]
    [InlineData("MacOS", Architecture.X64, "Fcntl")]
    [InlineData("MacOS", Architecture.Arm64, "FcntlArgumentOnStack")] // Apple's arm64 ABI passes fcntl's variadic argument on the stack
    [InlineData("OtherUnix", Architecture.X64, "Fcntl")]
    [InlineData("Windows", Architecture.X64, "ClearHandleInherit")]
    [InlineData("Windows", Architecture.Arm64, "ClearHandleInherit")]
    public void A_worker_keeps_its_channel_private_the_way_its_OS_allows(string os, Architecture architecture, string expected) =>
        Assert.Equal(expected, ChannelPlatform.PrivacyFor(Enum.Parse<HostOs>(os), architecture).ToString());

    [Theory]
    [InlineData("Linux", "ProcessGroup")]
    [InlineData("MacOS", "ProcessGroup")]
    [InlineData("OtherUnix", "ProcessGroup")]
    [InlineData("Windows", "JobObject")]
    public void A_workers_tree_is_contained_the_way_its_OS_allows(string os, string expected) =>
        Assert.Equal(expected, WorkerContainment.KindFor(Enum.Parse<HostOs>(os)).ToString());

    [Theory]
    [InlineData("Linux", "ParentProcessId")]
    [InlineData("MacOS", "ParentProcessId")]
    [InlineData("OtherUnix", "ParentProcessId")]
    [InlineData("Windows", "ProcessHandle")] // Windows reuses pids quickly: a handle keeps naming the parent
    public void A_worker_watches_its_parent_the_way_its_OS_allows(string os, string expected) =>
        Assert.Equal(expected, ParentLiveness.MethodFor(Enum.Parse<HostOs>(os)).ToString());

    [Fact]
    public void A_worker_sees_its_living_parent_and_not_a_process_that_is_not_its_parent()
    {
        using var child = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath!, "--version") { RedirectStandardOutput = true })!;
        child.WaitForExit();

        Assert.False(ParentLiveness.For(child.Id)()); // exited, and never this process's parent
        if (OperatingSystem.IsLinux())
        {
            // Where the parent's pid can be read independently. On every OS the integration tests show it too: a worker
            // whose check said "parent gone" for a living parent would leave within seconds, failing the whole suite.
            Assert.True(ParentLiveness.For(ParentOfThisProcessOnLinux())());
        }
    }

    [Fact]
    public void The_current_OS_is_one_the_decisions_know()
    {
        Assert.Equal(OperatingSystem.IsWindows(), HostPlatform.Current == HostOs.Windows);
        Assert.Equal(OperatingSystem.IsMacOS(), HostPlatform.Current == HostOs.MacOS);
        Assert.Equal(OperatingSystem.IsLinux(), HostPlatform.Current == HostOs.Linux);
        Assert.NotEqual(ContainmentKind.None, WorkerContainment.KindFor(HostPlatform.Current));
    }

    private static int ParentOfThisProcessOnLinux()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 4)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
