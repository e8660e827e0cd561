using Microsoft.Extensions.Logging.Abstractions;
using ProcessPools.Dispatch;
using ProcessPools.Supervision;

namespace ProcessPools.UnitTests.Dispatch;

public sealed class JobAdmissionTests
{
    [Fact]
    public async Task A_full_pool_holds_a_job_until_room_comes_back()
    {
        var lifecycle = new PoolLifecycle();
        lifecycle.TryStart();
        var admission = new JobAdmission("p", new ProcessPoolOptions { Processes = 1, MaxQueuedJobs = 1 }, lifecycle, () => null, NullLogger.Instance);
        var first = new RecordingJob(1);
        var second = new RecordingJob(2);

        await admission.EnqueueAsync(first, CancellationToken.None);
        var waiting = admission.EnqueueAsync(second, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, admission.QueuedJobs);

        var taken = await admission.QueueOf(0).DequeueAsync(CancellationToken.None);
        Assert.True(taken.TryDispatch()); // leaving the queue gives its room back
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, admission.QueuedJobs);
        Assert.Empty(second.Answers);
    }

    [Fact]
    public async Task A_job_waiting_for_room_is_answered_when_the_pool_is_terminated()
    {
        var lifecycle = new PoolLifecycle();
        lifecycle.TryStart();
        var admission = new JobAdmission("p", new ProcessPoolOptions { Processes = 1, MaxQueuedJobs = 1 }, lifecycle, () => null, NullLogger.Instance);
        await admission.EnqueueAsync(new RecordingJob(1), CancellationToken.None);
        var second = new RecordingJob(2);
        var waiting = admission.EnqueueAsync(second, CancellationToken.None);

        await lifecycle.TerminateAsync();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["failed: OperationCanceledException"], second.Answers);
    }

    [Fact]
    public async Task In_a_crash_loop_new_jobs_fail_with_its_reason_at_once()
    {
        var lifecycle = new PoolLifecycle();
        lifecycle.TryStart();
        var admission = new JobAdmission("p", new ProcessPoolOptions { Processes = 1 }, lifecycle, () => new ProcessPoolException("no worker starts"), NullLogger.Instance);
        var job = new RecordingJob();

        await admission.EnqueueAsync(job, CancellationToken.None);

        Assert.Equal(["failed: ProcessPoolException"], job.Answers);
        Assert.Equal(0, admission.QueuedJobs);
    }

    /// <summary>Regression: in a crash loop, queued jobs failed at once, ignoring their MaxRetries.</summary>
    [Fact]
    public async Task In_a_crash_loop_jobs_with_retries_left_keep_waiting_and_the_others_fail()
    {
        var lifecycle = new PoolLifecycle();
        lifecycle.TryStart();
        Exception? crashLoop = null;
        var admission = new JobAdmission("p", new ProcessPoolOptions { Processes = 1 }, lifecycle, () => crashLoop, NullLogger.Instance);
        var patient = new RecordingJob(1) { MaxRetries = 2 };
        var plain = new RecordingJob(2);
        await admission.EnqueueAsync(patient, CancellationToken.None);
        await admission.EnqueueAsync(plain, CancellationToken.None);

        crashLoop = new ProcessPoolException("no worker starts");
        admission.FailQueuedWithoutRetries(crashLoop);
        var arriving = new RecordingJob(3) { MaxRetries = 1 };
        await admission.EnqueueAsync(arriving, CancellationToken.None);

        Assert.Equal(["failed: ProcessPoolException"], plain.Answers);
        Assert.Empty(patient.Answers);
        Assert.Empty(arriving.Answers);
        Assert.Equal(2, admission.QueuedJobs);
    }

    [Fact]
    public async Task A_scheduler_choosing_a_queue_that_does_not_exist_fails_the_job_not_the_pool()
    {
        var lifecycle = new PoolLifecycle();
        lifecycle.TryStart();
        var options = new ProcessPoolOptions { Processes = 2, QueueCount = 2, SchedulerFactory = () => new FixedScheduler(5) };
        var admission = new JobAdmission("p", options, lifecycle, () => null, NullLogger.Instance);
        var job = new RecordingJob();

        await admission.EnqueueAsync(job, CancellationToken.None);

        Assert.Equal(["failed: InvalidOperationException"], job.Answers);
    }

    [Fact]
    public void A_lost_job_with_retries_left_is_queued_again_and_one_without_is_not()
    {
        var lifecycle = new PoolLifecycle();
        lifecycle.TryStart();
        var admission = new JobAdmission("p", new ProcessPoolOptions { Processes = 1 }, lifecycle, () => null, NullLogger.Instance);
        var retried = new RecordingJob(1) { MaxRetries = 1 };
        var spent = new RecordingJob(2) { MaxRetries = 0 };
        foreach (var job in new[] { retried, spent })
        {
            job.TryDispatch();
            job.Attempts = 1;
        }

        Assert.True(admission.TryRetry(retried));
        Assert.False(admission.TryRetry(spent));
        Assert.Equal(1, admission.QueuedJobs);
    }

    private sealed class FixedScheduler(int queue) : IScheduler
    {
        public int SelectQueue(ISchedulerContext context) => queue;
    }
}
