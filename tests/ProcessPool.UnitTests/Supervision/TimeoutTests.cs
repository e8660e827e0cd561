using Microsoft.Extensions.Time.Testing;
using ProcessPools.Channels;
using ProcessPools.Dispatch;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>Every timer of the pool, driven by a fake clock: heartbeats, the parent watchdog, grace periods, job timeouts, back-off.</summary>
public sealed class TimeoutTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_worker_that_answers_is_pinged_every_interval_and_never_declared_silent()
    {
        var clock = new FakeTimeProvider();
        var (pings, silences) = (0, new List<TimeSpan>());
        using var heartbeat = new HeartbeatMonitor(clock, Interval, Timeout, () => pings++, silences.Add);
        heartbeat.Start();

        for (var i = 0; i < 10; i++)
        {
            clock.Advance(Interval);
            heartbeat.Heard(); // its pong
        }

        Assert.Equal(10, pings);
        Assert.Empty(silences);
    }

    [Fact]
    public void A_silent_worker_is_declared_dead_at_the_first_beat_after_the_timeout_and_only_once()
    {
        var clock = new FakeTimeProvider();
        var (pings, silences) = (0, new List<TimeSpan>());
        using var heartbeat = new HeartbeatMonitor(clock, Interval, Timeout, () => pings++, silences.Add);
        heartbeat.Start();

        for (var i = 0; i < 4; i++)
        {
            clock.Advance(Interval); // 4 beats: silent 5, 10, 15, 20 s, none over the timeout yet
        }

        Assert.Equal((4, 0), (pings, silences.Count));

        clock.Advance(Interval);
        for (var i = 0; i < 10; i++)
        {
            clock.Advance(Interval); // time passing while this process runs: one beat at a time
        }

        Assert.Equal([Timeout + Interval], silences);
        Assert.Equal(4, pings);
    }

    /// <summary>Regression: stopping the whole application (Ctrl+Z) for 25 s lost the running job on resume.</summary>
    [Fact]
    public void A_beat_that_comes_late_because_this_process_was_paused_does_not_kill_the_worker()
    {
        var clock = new FakeTimeProvider();
        var (pings, silences) = (0, new List<TimeSpan>());
        using var heartbeat = new HeartbeatMonitor(clock, Interval, Timeout, () => pings++, silences.Add);
        heartbeat.Start();
        clock.Advance(Interval);

        // Paused: no timer ran for 25 s; on resume the clock has moved on and the timer fires late.
        clock.Advance(TimeSpan.FromSeconds(25));
        clock.Advance(Interval);
        clock.Advance(Interval);

        Assert.Empty(silences);
        Assert.True(pings >= 3);
    }

    /// <summary>A laptop that sleeps for an hour: the first beat after resume is late, and the worker is kept.</summary>
    [Fact]
    public void An_hour_of_sleep_does_not_kill_a_worker_and_a_silence_after_it_still_does()
    {
        var clock = new FakeTimeProvider();
        var silences = new List<TimeSpan>();
        using var heartbeat = new HeartbeatMonitor(clock, Interval, Timeout, () => { }, silences.Add);
        heartbeat.Start();
        clock.Advance(Interval);

        clock.Advance(TimeSpan.FromHours(1)); // asleep: the timer's next run is an hour late
        Assert.Empty(silences);

        for (var i = 0; i < 5; i++)
        {
            clock.Advance(Interval); // awake, and the worker says nothing: 25 s of real silence
        }

        Assert.Single(silences);
    }

    /// <summary>The worker's side of the same sleep: it keeps its parent, and still gives up one that stays silent after it.</summary>
    [Fact]
    public async Task An_hour_of_sleep_does_not_make_a_worker_give_up_its_parent()
    {
        var clock = new FakeTimeProvider();
        using var watchdog = new ParentWatchdog(clock, parentProcessId: 4242, parentIsAlive: () => true);
        watchdog.Start(Timeout);
        clock.Advance(Timeout / 4);

        clock.Advance(TimeSpan.FromHours(1)); // asleep: the check runs an hour late
        Assert.False(watchdog.Abandoned.IsCompleted);

        for (var i = 0; i < 4; i++)
        {
            clock.Advance(Timeout / 4);
        }

        Assert.False(watchdog.Abandoned.IsCompleted); // 20 s of silence since the resume: not over the timeout
        clock.Advance(Timeout / 4);
        Assert.Equal("the parent was silent for 25 s", await watchdog.Abandoned);
    }

    [Fact]
    public async Task The_watchdog_gives_up_a_parent_that_stopped_pinging()
    {
        var clock = new FakeTimeProvider();
        using var watchdog = new ParentWatchdog(clock, parentProcessId: 4242, parentIsAlive: () => true);
        watchdog.Start(Timeout);

        AdvanceRunning(clock, Timeout); // the worker runs: its checks come every Timeout / 4
        watchdog.Heard();
        AdvanceRunning(clock, Timeout);
        Assert.False(watchdog.Abandoned.IsCompleted); // heard 20 s ago: not over the timeout

        clock.Advance(Timeout / 4);

        Assert.True(watchdog.Abandoned.IsCompleted);
        Assert.Equal("the parent was silent for 25 s", await watchdog.Abandoned);
    }

    [Fact]
    public async Task The_watchdog_gives_up_a_parent_whose_process_is_gone_at_its_next_check()
    {
        var clock = new FakeTimeProvider();
        var alive = true;
        using var watchdog = new ParentWatchdog(clock, parentProcessId: 4242, parentIsAlive: () => alive);
        watchdog.Start(Timeout);

        clock.Advance(Timeout / 4);
        Assert.False(watchdog.Abandoned.IsCompleted);
        alive = false;
        clock.Advance(Timeout / 4);

        Assert.True(watchdog.Abandoned.IsCompleted);
        Assert.Equal("parent process 4242 is gone", await watchdog.Abandoned);
    }

    [Fact]
    public void A_cancelled_job_that_keeps_running_past_its_grace_period_gets_its_worker_killed()
    {
        var clock = new FakeTimeProvider();
        using var grace = new CancellationGrace(clock, TimeSpan.FromSeconds(5));
        var lapsed = new List<long>();

        Assert.True(grace.TryStart(1, () => lapsed.Add(1)));
        Assert.False(grace.TryStart(1, () => lapsed.Add(-1))); // cancelled twice: one period
        Assert.True(grace.TryStart(2, () => lapsed.Add(2)));
        clock.Advance(TimeSpan.FromSeconds(4));
        grace.Stop(2); // job 2 answered in time
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([1L], lapsed);
    }

    [Fact]
    public void A_dead_workers_grace_periods_all_end()
    {
        var clock = new FakeTimeProvider();
        var grace = new CancellationGrace(clock, TimeSpan.FromSeconds(5));
        var lapsed = 0;
        grace.TryStart(1, () => lapsed++);
        grace.TryStart(2, () => lapsed++);

        grace.Dispose();
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, lapsed);
    }

    [Fact]
    public void A_job_times_out_from_its_call_on_the_pool_clock()
    {
        var clock = new FakeTimeProvider();
        var job = new RecordingJob { Timeout = TimeSpan.FromSeconds(3) };
        var timedOut = new List<PendingJob>();

        job.StartTimeout(clock, timedOut.Add);
        clock.Advance(TimeSpan.FromSeconds(2.999));
        Assert.Empty(timedOut);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Same(job, Assert.Single(timedOut));
    }

    [Fact]
    public void A_job_answered_in_time_never_times_out()
    {
        var clock = new FakeTimeProvider();
        var job = new RecordingJob { Timeout = TimeSpan.FromSeconds(3) };
        var timedOut = 0;

        job.StartTimeout(clock, _ => timedOut++);
        job.Fail(new InvalidOperationException());
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, timedOut);
    }

    [Fact]
    public void A_job_answered_before_its_timer_exists_never_times_out()
    {
        var clock = new FakeTimeProvider();
        var job = new RecordingJob { Timeout = TimeSpan.FromSeconds(3) };
        job.Cancel(CancellationToken.None);
        var timedOut = 0;

        job.StartTimeout(clock, _ => timedOut++);
        clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, timedOut);
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(7, 6_400)]
    [InlineData(8, 10_000)]
    [InlineData(50, 10_000)]
    public void Failed_starts_back_off_doubling_from_100_ms_to_at_most_10_s(int failures, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), RestartBackoff.DelayAfter(failures));
    }

    [Fact]
    public void Back_off_starts_after_the_first_failure()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RestartBackoff.DelayAfter(0));
    }

    /// <summary>Time passing while this process runs: its timers fire on time, a quarter of the timeout at a time.</summary>
    private static void AdvanceRunning(FakeTimeProvider clock, TimeSpan span)
    {
        for (var step = Timeout / 4; span > TimeSpan.Zero; span -= step)
        {
            clock.Advance(step);
        }
    }
}
