using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>Regression: ten kills of workers (six of them still starting) counted as a crash loop and failed 1,567 of 2,000 calls.</summary>
public sealed class CrashLoopDetectorTests
{
    [Fact]
    public void The_same_start_failure_again_and_again_is_a_crash_loop()
    {
        var detector = new CrashLoopDetector();
        var kind = CrashLoopDetector.KindOf("System.InvalidOperationException: cache warm-up failed", exitCode: 3, new ProcessPoolException("x"));

        Assert.False(detector.Failed(kind));
        Assert.False(detector.Failed(kind));
        Assert.True(detector.Failed(kind));
        Assert.Equal(3, detector.SameInARow);
    }

    [Fact]
    public void Workers_killed_by_a_signal_while_starting_are_never_a_crash_loop()
    {
        var detector = new CrashLoopDetector();

        for (var i = 0; i < 10; i++)
        {
            Assert.False(detector.Failed(CrashLoopDetector.KindOf(setupFailure: null, exitCode: 137, new ProcessPoolException("killed"))));
        }

        Assert.Equal(0, detector.SameInARow);
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
