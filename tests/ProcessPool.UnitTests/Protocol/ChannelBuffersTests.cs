using ProcessPools.Channels;

namespace ProcessPools.UnitTests.Protocol;

/// <summary>The channel's large buffers: one list for every thread, bounded, trimmed when idle.</summary>
public sealed class ChannelBuffersTests
{
    [Fact]
    public async Task A_large_array_returned_on_one_thread_is_rented_again_on_another()
    {
        var buffers = new ChannelBuffers();
        var array = buffers.RentLarge(3 << 20);
        Assert.Equal(4 << 20, array.Length); // a power of two

        // Returned on a thread of its own, as the channel's writer returns a job's buffer; rented from this one.
        await Task.Factory.StartNew(() => buffers.ReturnLarge(array), TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Assert.Same(array, buffers.RentLarge(3 << 20));
        Assert.Equal(0, buffers.FreeLargeCount);
    }

    [Fact]
    public void The_smallest_array_that_fits_is_rented_and_beyond_the_bound_the_smallest_is_dropped()
    {
        var buffers = new ChannelBuffers();
        var arrays = Enumerable.Range(0, ChannelBuffers.Kept + 1).Select(i => buffers.RentLarge((1 << 20) << i)).ToArray();
        foreach (var array in arrays)
        {
            buffers.ReturnLarge(array);
        }

        Assert.Equal(ChannelBuffers.Kept, buffers.FreeLargeCount); // the 1 MiB one went
        Assert.Same(arrays[1], buffers.RentLarge(1 << 20));
        Assert.Same(arrays[3], buffers.RentLarge(5 << 20));
    }

    [Fact]
    public void An_array_unused_for_a_whole_trim_period_is_dropped_and_a_used_one_kept()
    {
        var buffers = new ChannelBuffers();
        var idle = buffers.RentLarge(1 << 20);
        var busy = buffers.RentLarge(2 << 20);
        buffers.ReturnLarge(idle);
        buffers.ReturnLarge(busy);

        buffers.Trim(); // both were used since the last trim: kept, marked
        Assert.Equal(2, buffers.FreeLargeCount);
        buffers.ReturnLarge(buffers.RentLarge(2 << 20)); // used again
        buffers.Trim();

        Assert.Equal(1, buffers.FreeLargeCount);
        Assert.Same(busy, buffers.RentLarge(1 << 20));
    }
}
