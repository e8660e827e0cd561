using ProcessPools.Channels;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>Regression: ten kills of workers (six of them still starting) counted as a crash loop and failed 1,567 of 2,000 calls.</summary>
public sealed class CrashLoopDetectorTests
{
    [Fact]
    public void The_same_start_failure_again_and_again_is_a_crash_loop()
    {
        var detector = new CrashLoopDetector();
        var kind = CrashLoopDetector.KindOf("System.InvalidOperationException: cache warm-up failed", exitCode: 3, new ProcessPoolException("x"), PoolEnded.No, HostOs.Linux);

        Assert.False(detector.Failed(kind));
        Assert.False(detector.Failed(kind));
        Assert.True(detector.Failed(kind));
        Assert.Equal(3, detector.SameInARow);
    }

    [Theory]
    [InlineData("Linux")]
    [InlineData("MacOS")]
    public void Workers_killed_by_a_signal_while_starting_are_never_a_crash_loop(string os)
    {
        var detector = new CrashLoopDetector();

        for (var i = 0; i < 10; i++)
        {
            Assert.False(detector.Failed(CrashLoopDetector.KindOf(setupFailure: null, exitCode: 137, new ProcessPoolException("killed"), PoolEnded.No, Enum.Parse<HostOs>(os))));
        }

        Assert.Equal(0, detector.SameInARow);
    }

    /// <summary>Regression (Windows): the pool's own kills exit with -1 (TerminateProcess), which read as a crash loop by number.</summary>
    [Theory]
    [InlineData("Windows", -1)]
    [InlineData("Linux", 137)]
    [InlineData("MacOS", 137)]
    public void Workers_the_pool_killed_are_never_a_crash_loop_whatever_their_exit_code(string os, int exitCode)
    {
        var detector = new CrashLoopDetector();

        for (var i = 0; i < 10; i++)
        {
            Assert.False(detector.Failed(CrashLoopDetector.KindOf(setupFailure: null, exitCode, new ProcessPoolException("killed"), PoolEnded.Killed, Enum.Parse<HostOs>(os))));
        }
    }

    /// <summary>Regression (Linux): a worker that never became ready was killed (137) and read as "killed from outside", so a start that always hangs never counted.</summary>
    [Theory]
    [InlineData("Linux", 137)]
    [InlineData("Windows", -1)]
    public void Starts_that_time_out_again_and_again_are_a_crash_loop_on_every_OS(string os, int exitCode)
    {
        var detector = new CrashLoopDetector();
        var kind = CrashLoopDetector.KindOf(setupFailure: null, exitCode, new ProcessPoolException("not ready"), PoolEnded.StartTimeout, Enum.Parse<HostOs>(os));

        Assert.Equal("did not become ready within StartTimeout", kind);
        Assert.False(detector.Failed(kind));
        Assert.False(detector.Failed(kind));
        Assert.True(detector.Failed(kind));
    }

    [Fact]
    public void On_Windows_a_code_over_128_is_a_code_not_a_signal()
    {
        Assert.Equal("exit code 137", CrashLoopDetector.KindOf(setupFailure: null, 137, new ProcessPoolException("x"), PoolEnded.No, HostOs.Windows));
        Assert.Null(CrashLoopDetector.KindOf(setupFailure: null, 137, new ProcessPoolException("x"), PoolEnded.No, HostOs.Linux));
        Assert.Null(CrashLoopDetector.KindOf(setupFailure: null, -1, new ProcessPoolException("x"), PoolEnded.No, HostOs.Windows)); // Process.Kill from outside
        Assert.Equal("exit code 1", CrashLoopDetector.KindOf(setupFailure: null, 1, new ProcessPoolException("x"), PoolEnded.No, HostOs.Windows)); // taskkill /F, or the app's own 1
    }

    [Fact]
    public void Different_failures_or_a_start_in_between_start_the_count_again()
    {
        var detector = new CrashLoopDetector();

        detector.Failed("exit code 1");
        detector.Failed("exit code 1");
        Assert.False(detector.Failed("exit code 2"));
        detector.Failed("exit code 2");
        detector.Started();
        Assert.False(detector.Failed("exit code 2"));
        Assert.Equal(1, detector.SameInARow);
    }
}
