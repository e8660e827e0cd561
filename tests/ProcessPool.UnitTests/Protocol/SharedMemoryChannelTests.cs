using System.Buffers;
using System.Buffers.Binary;
using ProcessPools.Channels;

namespace ProcessPools.UnitTests.Protocol;

/// <summary>
/// Shared-memory frames without processes: where segments go on each OS, the plan a worker reads, the sweep of a dead
/// parent's files, and both directions of a channel (frames written into segments, read back whole, every segment
/// given back, reused and deleted), with the errors a confused or hostile peer gets.
/// </summary>
public sealed class SharedMemoryChannelTests : IDisposable
{
    private const int Threshold = 64 * 1024;
    private const int Limit = 8 << 20;
    private readonly string _directory = Directory.CreateTempSubdirectory("processpool-unit-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SharedMemoryPlan Plan() => new(Threshold, SegmentStore.Directory, _directory, $"{SharedMemoryPlan.NamePrefix}{Environment.ProcessId}-unit-{Guid.NewGuid():N}");

    [Theory]
    [InlineData(nameof(HostOs.Linux), true, nameof(SegmentStore.Directory), "/dev/shm")]
    [InlineData(nameof(HostOs.Linux), false, nameof(SegmentStore.Directory), "/tmp/user")] // a container without /dev/shm
    [InlineData(nameof(HostOs.MacOS), true, nameof(SegmentStore.Directory), "/tmp/user")]
    [InlineData(nameof(HostOs.OtherUnix), true, nameof(SegmentStore.Directory), "/tmp/user")]
    [InlineData(nameof(HostOs.Windows), true, nameof(SegmentStore.Named), "")]
    public void Each_OS_keeps_segments_where_both_processes_can_map_them(string os, bool devShmWritable, string store, string location)
    {
        Assert.Equal(
            (Enum.Parse<SegmentStore>(store), location),
            SharedMemoryPlan.Choose(Enum.Parse<HostOs>(os), path => path == "/dev/shm" && devShmWritable, "/tmp/user"));
    }

    [Fact]
    public void A_plan_crosses_to_the_worker_as_text_and_garbage_reads_as_none()
    {
        var plan = new SharedMemoryPlan(1 << 20, SegmentStore.Directory, "/dev/shm", "processpool-12-ab-3");
        Assert.Equal(plan, SharedMemoryPlan.Parse(plan.Format()));
        Assert.Equal(Path.Combine("/dev/shm", "processpool-12-ab-3-w7"), plan.NameOf(SharedMemoryPlan.Worker, 7));
        Assert.Equal("Local\\processpool-1-ab-2-p3", (plan with { Store = SegmentStore.Named, Prefix = "processpool-1-ab-2" }).NameOf(SharedMemoryPlan.Parent, 3));
        Assert.Null(SharedMemoryPlan.Parse(null));
        Assert.Null(SharedMemoryPlan.Parse("65536|Directory|someone-else-1|/dev/shm")); // not our prefix
        Assert.Null(SharedMemoryPlan.Parse("-1|Directory|processpool-1|/dev/shm"));
        Assert.Null(SharedMemoryPlan.Parse("65536|Directory|processpool-1|")); // files need a directory
        Assert.Null(SharedMemoryPlan.Parse("65536|Elsewhere|processpool-1|/dev/shm"));
    }

    [Fact]
    public void The_sweep_deletes_the_segments_of_parents_that_are_gone_and_nothing_else()
    {
        // Namespace 77 is this sweep's; 88 is another container's sharing the directory, whose pid 111 may well live.
        string[] names = ["processpool-77-111-ab-1-p1", "processpool-77-111-ab-2-w4", "processpool-77-222-cd-1-p1", "processpool-88-111-ef-1-p1", "processpool-77-notapid-1-p1", "other-77-111-ab-1-p1"];
        foreach (var name in names)
        {
            File.WriteAllBytes(Path.Combine(_directory, name), [1, 2, 3]);
        }

        var deleted = SharedMemoryPlan.SweepOrphans(_directory, "77", pid => pid != 111);

        Assert.Equal(2, deleted);
        Assert.Equal(
            ["other-77-111-ab-1-p1", "processpool-77-222-cd-1-p1", "processpool-77-notapid-1-p1", "processpool-88-111-ef-1-p1"],
            Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void This_process_names_its_segments_by_its_pid_namespace_and_pid()
    {
        Assert.Equal($"processpool-{SharedMemoryPlan.PidNamespace}-{Environment.ProcessId}-", SharedMemoryPlan.ProcessPrefix);
        Assert.StartsWith(SharedMemoryPlan.ProcessPrefix, SharedMemoryPlan.ForNewChannel(1 << 20).Prefix, StringComparison.Ordinal);
        if (OperatingSystem.IsLinux())
        {
            Assert.Matches("^[0-9]+$", SharedMemoryPlan.PidNamespace);
            Assert.NotEqual("0", SharedMemoryPlan.PidNamespace);
        }
    }

    [Fact]
    public async Task Large_frames_cross_in_segments_small_ones_in_the_pipe_and_every_segment_comes_back()
    {
        var plan = Plan();
        using var parentSegments = new OutgoingSegments(plan, SharedMemoryPlan.Parent);
        var toWorker = new MemoryStream();
        var parentWriter = new FrameWriter(toWorker, parentSegments);
        int[] sizes = [100, 70_000, 1 << 20, 3_000_000, Threshold - 5, Threshold - 4];
        for (var i = 0; i < sizes.Length; i++)
        {
            // Frame 5's prefix (an invoke frame's target number) makes it exactly the threshold: it goes in a segment.
            Assert.True(parentWriter.TryWrite(new OutgoingFrame(FrameType.Invoke, i, Pattern(i, sizes[i]), Prefix: i is 3 or 5 ? 42 : null)));
        }

        Assert.Equal(4, parentSegments.Lent); // 70,000 bytes, 1 MiB, 3 MB, and the threshold itself
        Assert.Equal(4, Directory.GetFiles(_directory).Length);
        Assert.True(toWorker.Length < 6 * 100 + 200 + (Threshold - 5), $"the pipe carried {toWorker.Length} bytes: the large frames went through it");

        // The worker's side reads them, each from its segment, and gives each back.
        using var workerSegments = new OutgoingSegments(plan, SharedMemoryPlan.Worker);
        var toParent = new MemoryStream();
        var workerWriter = new FrameWriter(toParent, workerSegments);
        var received = new Recorder();
        await FrameReader.Start(new MemoryStream(toWorker.ToArray()), Limit, new SegmentFrames(received, plan, SharedMemoryPlan.Parent, workerSegments, workerWriter, Limit), "worker reader")
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        workerWriter.Complete();
        await workerWriter.Completion.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(sizes.Length, received.Frames.Count);
        for (var i = 0; i < sizes.Length; i++)
        {
            var expected = i is 3 or 5 ? [.. BitConverter.GetBytes(42), .. Pattern(i, sizes[i])] : Pattern(i, sizes[i]);
            Assert.Equal((FrameType.Invoke, (long)i), (received.Frames[i].Type, received.Frames[i].JobId));
            Assert.True(expected.AsSpan().SequenceEqual(received.Frames[i].Payload), $"frame {i} ({sizes[i]} bytes) arrived changed");
        }

        // The parent reads the releases: nothing lent, two kept for reuse, the rest deleted.
        var unexpected = new Recorder();
        await FrameReader.Start(new MemoryStream(toParent.ToArray()), Limit, new SegmentFrames(unexpected, plan, SharedMemoryPlan.Worker, parentSegments, parentWriter, Limit), "parent reader")
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Empty(unexpected.Frames);
        Assert.Equal(0, parentSegments.Lent);
        Assert.Equal(OutgoingSegments.KeptFree, parentSegments.Count);
        Assert.Equal(OutgoingSegments.KeptFree, Directory.GetFiles(_directory).Length);

        // The next large frame reuses a kept segment: no new file.
        var before = Directory.GetFiles(_directory).Order(StringComparer.Ordinal).ToArray();
        Assert.True(parentWriter.TryWrite(new OutgoingFrame(FrameType.Invoke, 9, Pattern(9, 500_000))));
        Assert.Equal(before, Directory.GetFiles(_directory).Order(StringComparer.Ordinal));

        parentSegments.Dispose();
        Assert.Empty(Directory.GetFiles(_directory));
        parentSegments.Release(1); // a release after the end is ignored, not an error
    }

    [Fact]
    public async Task Work_a_segment_frame_starts_answers_after_the_segments_release()
    {
        var plan = Plan();
        using var parentSegments = new OutgoingSegments(plan, SharedMemoryPlan.Parent);
        var toWorker = new MemoryStream();
        Assert.True(new FrameWriter(toWorker, parentSegments).TryWrite(new OutgoingFrame(FrameType.Invoke, 7, Pattern(7, 200_000))));

        // The worker's handler starts a job that answers at once, as a trivial job may before the handler returns.
        var toParent = new MemoryStream();
        var workerWriter = new FrameWriter(toParent);
        using var workerSegments = new OutgoingSegments(plan, SharedMemoryPlan.Worker);
        var handler = new StartsWork(workerWriter);
        await FrameReader.Start(new MemoryStream(toWorker.ToArray()), Limit, new SegmentFrames(handler, plan, SharedMemoryPlan.Parent, workerSegments, workerWriter, Limit), "worker reader")
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        workerWriter.Complete();
        await workerWriter.Completion.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var sent = new Recorder();
        await FrameReader.Start(new MemoryStream(toParent.ToArray()), Limit, sent, "parent reader").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal([FrameType.ReleaseSegment, FrameType.Result], sent.Frames.Select(f => f.Type));
    }

    [Fact]
    public async Task Where_no_segment_can_be_made_a_large_frame_goes_through_the_pipe_and_the_side_is_told_why()
    {
        var plan = Plan() with { Location = Path.Combine(_directory, "gone") }; // a directory that is not there
        var told = new List<(int Bytes, Exception Reason)>();
        using var segments = new OutgoingSegments(plan, SharedMemoryPlan.Parent, (bytes, reason) => told.Add((bytes, reason)));
        var pipe = new MemoryStream();

        Assert.True(new FrameWriter(pipe, segments).TryWrite(new OutgoingFrame(FrameType.Result, 3, Pattern(3, 300_000))));

        var (bytes, reason) = Assert.Single(told);
        Assert.Equal(300_000, bytes);
        Assert.IsAssignableFrom<IOException>(reason);
        Assert.Equal(0, segments.Count);
        var received = new Recorder();
        await FrameReader.Start(new MemoryStream(pipe.ToArray()), Limit, received, "reader").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var frame = Assert.Single(received.Frames);
        Assert.Equal((FrameType.Result, 3L), (frame.Type, frame.JobId)); // a plain frame, not a segment reference
        Assert.Equal(Pattern(3, 300_000), frame.Payload);
    }

    [Fact]
    public void A_frame_naming_a_missing_segment_ends_the_channel_with_the_segment_named()
    {
        var plan = Plan();
        using var own = new OutgoingSegments(plan, SharedMemoryPlan.Worker);
        var inner = new Recorder();
        var frames = new SegmentFrames(inner, plan, SharedMemoryPlan.Parent, own, new FrameWriter(new MemoryStream()), Limit);

        var missing = Assert.Throws<InvalidDataException>(() => frames.OnFrame((FrameType)((byte)FrameType.Invoke | SegmentFrames.InSegment), 1, Reference(5, 1000)));
        var tooLarge = Assert.Throws<InvalidDataException>(() => frames.OnFrame((FrameType)((byte)FrameType.Invoke | SegmentFrames.InSegment), 1, Reference(5, Limit + 1)));
        var notLent = Assert.Throws<InvalidDataException>(() => frames.OnFrame(FrameType.ReleaseSegment, 0, new ReadOnlySequence<byte>(BitConverter.GetBytes(3))));

        Assert.Contains(plan.NameOf(SharedMemoryPlan.Parent, 5), missing.Message);
        Assert.Contains("MaxMessageSize", tooLarge.Message);
        Assert.Contains("segment 3", notLent.Message);
        Assert.Empty(inner.Frames);
    }

    private static ReadOnlySequence<byte> Reference(int number, int length)
    {
        var bytes = new byte[SegmentFrames.ReferenceSize];
        SegmentFrames.WriteReference(bytes, number, length);
        return new ReadOnlySequence<byte>(bytes);
    }

    private static byte[] Pattern(int frame, int length)
    {
        var bytes = new byte[length];
        new Random(frame * 7919 + length).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Starts work as the worker's job runner does: it answers through the writer as soon as it runs.</summary>
    private sealed class StartsWork(FrameWriter writer) : IFrameHandler
    {
        public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload) =>
            SegmentFrames.AfterRelease(static state => state.Writer.TryWrite(new OutgoingFrame(FrameType.Result, state.JobId, new byte[] { 1 })), (Writer: writer, JobId: jobId));
    }

    private sealed class Recorder : IFrameHandler
    {
        public List<(FrameType Type, long JobId, byte[] Payload)> Frames { get; } = [];

        public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload) => Frames.Add((type, jobId, payload.ToArray()));
    }
}
