using System.Threading.Channels;
using ProcessPools.Dispatch;
using ProcessPools.Transport;

namespace ProcessPools.UnitTests.Dispatch;

public sealed class QueueAndWindowTests
{
    [Fact]
    public async Task A_queue_counts_what_waits_and_drops_a_job_answered_while_queued_from_its_count()
    {
        var queue = new JobQueue();
        var kept = new RecordingJob(1);
        var cancelled = new RecordingJob(2);
        Assert.True(queue.TryEnqueue(kept));
        Assert.True(queue.TryEnqueue(cancelled));

        cancelled.Cancel(CancellationToken.None);

        Assert.Equal(1, queue.Queued);
        Assert.Same(kept, await queue.DequeueAsync(CancellationToken.None));
        Assert.Equal(0, queue.Queued);
        Assert.True(queue.TryDequeue(out var skipped)); // a channel cannot drop from its middle: the worker skips it
        Assert.False(skipped.TryDispatch());
        Assert.Equal(0, queue.Queued);
    }

    [Fact]
    public async Task A_completed_queue_is_drained_then_closed()
    {
        var queue = new JobQueue();
        queue.TryEnqueue(new RecordingJob(1));
        queue.Complete();

        Assert.False(queue.TryEnqueue(new RecordingJob(2)));
        Assert.False(queue.IsCompleted);
        await queue.DequeueAsync(CancellationToken.None);
        await Assert.ThrowsAsync<ChannelClosedException>(() => queue.DequeueAsync(CancellationToken.None).AsTask());
        Assert.True(queue.IsCompleted);
    }

    [Fact]
    public void A_pending_job_is_answered_exactly_once()
    {
        var job = new RecordingJob();

        Assert.True(job.TryDispatch());
        Assert.False(job.TryDispatch());
        job.Fail(new TimeoutException());
        job.Cancel(CancellationToken.None);
        job.Fail(new InvalidOperationException());

        Assert.Equal(["failed: TimeoutException"], job.Answers);
        Assert.False(job.ReturnToQueue());
        Assert.True(job.IsFinished);
    }

    [Fact]
    public void A_dispatched_job_goes_back_to_the_queue_for_a_retry_and_can_be_dispatched_again()
    {
        var job = new RecordingJob();

        Assert.True(job.TryDispatch());
        Assert.True(job.ReturnToQueue());
        Assert.True(job.TryDispatch());
        Assert.Empty(job.Answers);
    }

    [Fact]
    public void Queue_room_comes_back_once_when_the_job_leaves_the_queue_or_is_answered()
    {
        var released = 0;
        var dispatched = new RecordingJob(1);
        var answered = new RecordingJob(2);
        var answeredBeforeHolding = new RecordingJob(3);
        answeredBeforeHolding.Fail(new InvalidOperationException());

        dispatched.HoldQueueRoom(_ => released++);
        answered.HoldQueueRoom(_ => released++);
        answeredBeforeHolding.HoldQueueRoom(_ => released++);
        dispatched.TryDispatch();
        dispatched.Fail(new InvalidOperationException());
        answered.Cancel(CancellationToken.None);

        Assert.Equal(3, released);
    }

    [Fact]
    public void The_window_gives_room_in_bulk_up_to_its_size()
    {
        var window = new ItemWindow(10);

        Assert.Equal(4, window.TryTake(4));
        Assert.Equal(6, window.TryTake(100));
        Assert.Equal(0, window.TryTake(1));
        window.Release(3);
        Assert.Equal(3, window.TryTake(5));
    }

    [Fact]
    public async Task A_producer_without_room_waits_until_the_consumer_gives_some_back()
    {
        var window = new ItemWindow(1);
        await window.TakeOneAsync(CancellationToken.None);

        var waiting = window.TakeOneAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        window.Release(1);

        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, window.TryTake(1));
    }

    [Fact]
    public async Task A_producer_waiting_for_room_stops_when_the_map_is_cancelled()
    {
        var window = new ItemWindow(0);
        using var cancel = new CancellationTokenSource();

        var waiting = window.TakeOneAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Theory]
    [InlineData(50, 2)]
    [InlineData(150, 2)]
    [InlineData(500, 1)]
    [InlineData(5_000, 1)]
    public void Chunks_double_for_quick_items_and_stay_at_one_for_slow_ones(double microsecondsPerItem, int expected)
    {
        var sizer = new ChunkSizer(enabled: true, window: 1024, processes: 2);

        sizer.Observe(microsecondsPerItem);

        Assert.Equal(expected, sizer.Limit);
    }

    [Fact]
    public void Chunks_grow_to_a_share_of_the_window_and_halve_when_items_slow_down()
    {
        var sizer = new ChunkSizer(enabled: true, window: 1024, processes: 2);
        for (var i = 0; i < 20; i++)
        {
            sizer.Observe(10);
        }

        Assert.Equal(128, sizer.Limit); // 1024 / (4 x 2)
        sizer.Observe(3_000);
        Assert.Equal(64, sizer.Limit);
        sizer.Observe(1_000); // between the bounds: kept
        Assert.Equal(64, sizer.Limit);
    }

    [Fact]
    public void An_automatic_window_doubles_while_its_items_stay_small_and_chunks_follow_it()
    {
        const int Ints = 21; // an int argument and result with their prefixes: 12 + 9 bytes
        Assert.Equal(2_048, MapOperation<int>.WidenedWindow(1_024, 128, 128 * Ints));
        Assert.Equal(8_192, MapOperation<int>.WidenedWindow(4_096, 128, 128 * Ints));
        Assert.Equal(8_192, MapOperation<int>.WidenedWindow(8_192, 128, 128 * Ints)); // the limit
        Assert.Equal(4_096, MapOperation<int>.WidenedWindow(2_048, 10, 10 * 1_024)); // 4 MiB of 1 KiB items: still in
        Assert.Equal(4_096, MapOperation<int>.WidenedWindow(4_096, 10, 10 * 1_024)); // 8 MiB: kept
        Assert.Equal(1_024, MapOperation<int>.WidenedWindow(1_024, 10, 10 * 8_192)); // large items: kept
        Assert.Equal(1_024, MapOperation<int>.WidenedWindow(1_024, 0, 0));

        var sizer = new ChunkSizer(enabled: true, window: 1_024, processes: 2);
        sizer.Widen(4_096, processes: 2);
        for (var i = 0; i < 20; i++)
        {
            sizer.Observe(10);
        }

        Assert.Equal(256, sizer.Limit); // the largest chunk, not 4096 / (4 x 2)
        sizer.Widen(1_024, processes: 2); // never narrower
        sizer.Observe(10);
        Assert.Equal(256, sizer.Limit);
    }

    [Fact]
    public void Items_that_need_their_own_timeout_retries_or_progress_never_share_a_job()
    {
        var options = new ProcessPoolOptions();
        var target = JobTarget.FromDelegate(RecordingJob.SquareAsync);
        var sizer = new ChunkSizer(ChunkSizer.Allows(options, target, TimeSpan.FromSeconds(1), maxRetries: 0), 1024, 2);
        sizer.Observe(1);

        Assert.False(ChunkSizer.Allows(options, target, timeout: null, maxRetries: 1));
        Assert.False(ChunkSizer.Allows(new ProcessPoolOptions { MaxTasksPerChild = 10 }, target, null, 0));
        Assert.False(ChunkSizer.Allows(options, JobTarget.FromDelegate(ReportAsync), null, 0));
        Assert.True(ChunkSizer.Allows(options, target, null, 0));
        Assert.Equal(1, sizer.Limit);
    }

    private static Task<int> ReportAsync(int x, IProgress<int> progress) => Task.FromResult(x);
}
