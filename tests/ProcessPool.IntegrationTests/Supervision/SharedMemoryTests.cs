using System.Diagnostics;

namespace ProcessPools.IntegrationTests;

/// <summary>
/// Large messages through shared memory (<see cref="ProcessPoolOptions.SharedMemoryThreshold"/>): intact each way,
/// segments reused rather than made per message, and none left behind by workers that exit, are killed, or are
/// killed under load.
/// </summary>
public sealed class SharedMemoryTests(ITestOutputHelper output)
{
    private const int Threshold = 64 * 1024;

    /// <summary>Where this OS keeps segment files (Windows keeps none: named sections end with their handles).</summary>
    private static string SegmentDirectory => OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>The segment files of this test process's pools (their names start with its pid namespace and pid).</summary>
    private static string[] Segments() => OperatingSystem.IsWindows() ? [] : Directory.GetFiles(SegmentDirectory, $"{Channels.SharedMemoryPlan.ProcessPrefix}*");

    [Fact]
    public async Task Large_arguments_and_results_cross_through_shared_memory_intact_and_small_ones_through_the_pipe()
    {
        Assert.Empty(Segments());
        await using (var pool = await ProcessPool.StartAsync(o => (o.Processes, o.SharedMemoryThreshold) = (2, Threshold)))
        {
            var small = SharedMemoryJobs.Make(1000, 1);
            Assert.Equal(SharedMemoryJobs.Digest(small), await pool.ApplyAsync(SharedMemoryJobs.DigestAsync, small).WaitAsync(TestPools.HangGuard));
            Assert.Equal(small, await pool.ApplyAsync(SharedMemoryJobs.EchoAsync, small).WaitAsync(TestPools.HangGuard));
            Assert.Empty(Segments()); // nothing reached the threshold

            var large = SharedMemoryJobs.Make(5 * 1024 * 1024 + 17, 2);
            Assert.Equal(SharedMemoryJobs.Digest(large), await pool.ApplyAsync(SharedMemoryJobs.DigestAsync, large).WaitAsync(TestPools.HangGuard));
            Assert.Equal(large, await pool.ApplyAsync(SharedMemoryJobs.EchoAsync, large).WaitAsync(TestPools.HangGuard));
            Assert.Equal(SharedMemoryJobs.Make(3 * 1024 * 1024, 3), await pool.ApplyAsync(SharedMemoryJobs.MakeAsync, 3 * 1024 * 1024, 3).WaitAsync(TestPools.HangGuard));

            // A map's chunks and answers take the same path.
            var items = Enumerable.Range(10, 12).Select(seed => SharedMemoryJobs.Make(700 * 1024, seed)).ToArray();
            var digests = await pool.Map(SharedMemoryJobs.DigestAsync, items).ToListAsync().WaitAsync(TestPools.HangGuard);
            Assert.Equal(items.Select(SharedMemoryJobs.Digest), digests);

            // The segments went through the file system: the senders keep them for the next large message.
            if (!OperatingSystem.IsWindows())
            {
                var kept = Segments();
                output.WriteLine($"segments kept: {string.Join(", ", kept.Select(Path.GetFileName))}");
                Assert.NotEmpty(kept);
                Assert.Contains(kept, name => Path.GetFileName(name).Contains("-p", StringComparison.Ordinal));
                Assert.Contains(kept, name => Path.GetFileName(name).Contains("-w", StringComparison.Ordinal));
            }
        }

        Assert.Empty(Segments());
    }

    /// <summary>
    /// A job that answers an <see cref="System.Buffers.IMemoryOwner{T}"/> of bytes hands it over (its worker disposes it
    /// once written), and its caller gets the bytes in a buffer of its own to dispose, through the pipe and through
    /// shared memory, alone and from a map.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_memory_owner_result_reaches_its_caller_intact_and_the_jobs_own_is_disposed_in_the_worker(bool sharedMemory)
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.SharedMemoryThreshold) = (1, sharedMemory ? Threshold : null));
        var disposed = await pool.ApplyAsync(SharedMemoryJobs.DisposedOwnersAsync).WaitAsync(TestPools.HangGuard);

        foreach (var (length, seed) in new[] { (100, 1), (3 << 20, 2), (200 * 1024, 3), (0, 4) })
        {
            using var owner = await pool.ApplyAsync(SharedMemoryJobs.MakeOwnedAsync, length, seed).WaitAsync(TestPools.HangGuard);
            Assert.Equal(SharedMemoryJobs.Make(length, seed), owner.Memory.ToArray());
            Assert.Equal(length >= Channels.LentBytes.MinimumLength, owner is Transport.LentResult); // large ones in a reused buffer
        }

        var kept = await pool.ApplyAsync(SharedMemoryJobs.MakeOwnedAsync, 1 << 20, 5).WaitAsync(TestPools.HangGuard);
        kept.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kept.Memory); // its buffer went back: reading it now would read another's

        // More quick items than the map's first window: the later ones go in chunks, read by another path than single jobs.
        int[] lengths = [.. Enumerable.Range(0, 3000).Select(i => i % 100 == 99 ? 70 * 1024 + i : 10 + (i % 50))];
        var mapped = await pool.Map(SharedMemoryJobs.MakeOwnedOfLengthAsync, lengths).ToListAsync().WaitAsync(TestPools.HangGuard);
        Assert.Equal(lengths.Select(n => SharedMemoryJobs.Make(n, n)), mapped.Select(owner => owner.Memory.ToArray()));
        Assert.Equal(lengths.Select(n => n >= Channels.LentBytes.MinimumLength), mapped.Select(owner => owner is Transport.LentResult));
        foreach (var owner in mapped)
        {
            owner.Dispose();
        }

        Assert.Equal(disposed + 5 + lengths.Length, await pool.ApplyAsync(SharedMemoryJobs.DisposedOwnersAsync).WaitAsync(TestPools.HangGuard));
    }

    [Fact]
    public async Task Segments_are_reused_from_message_to_message_not_made_for_each()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.SharedMemoryThreshold) = (1, Threshold));
        var created = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 30; i++)
        {
            var payload = SharedMemoryJobs.Make((1 + (i % 3)) * 1024 * 1024, i);
            Assert.Equal(payload, await pool.ApplyAsync(SharedMemoryJobs.EchoAsync, payload).WaitAsync(TestPools.HangGuard));
            created.UnionWith(Segments());
        }

        // Each side reused what it made, not a segment per message (30 each way). The sizes cycle, and a message larger
        // than every free segment replaces one; a release still on its way when the next message is written costs one
        // more (the worker's releases precede its answers, the parent's may trail its caller's next call).
        output.WriteLine($"segment files seen over 30 echoes: {created.Count}");
        Assert.InRange(created.Count, 2, 12);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_large_memory_argument_is_lent_from_a_reused_buffer_and_a_byte_array_is_the_jobs_own(bool sharedMemory)
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.SharedMemoryThreshold) = (1, sharedMemory ? Threshold : null));
        var first = SharedMemoryJobs.Make(2 * 1024 * 1024, 1);
        var second = SharedMemoryJobs.Make(2 * 1024 * 1024 - 3, 2);

        var (firstArray, firstDigest) = await pool.ApplyAsync(SharedMemoryJobs.InspectMemoryAsync, (ReadOnlyMemory<byte>)first).WaitAsync(TestPools.HangGuard);
        var (secondArray, secondDigest) = await pool.ApplyAsync(SharedMemoryJobs.InspectMemoryAsync, (ReadOnlyMemory<byte>)second).WaitAsync(TestPools.HangGuard);

        // The bytes are right, and the second job was lent the buffer the first gave back (not a new array).
        Assert.Equal(SharedMemoryJobs.Digest(first), firstDigest);
        Assert.Equal(SharedMemoryJobs.Digest(second), secondDigest);
        Assert.Equal(firstArray, secondArray);

        // A job may answer with the memory it was lent: the answer is written before the buffer is taken back.
        var echoed = await Task.WhenAll(Enumerable.Range(3, 6).Select(seed => pool.ApplyAsync(SharedMemoryJobs.EchoMemoryAsync, (ReadOnlyMemory<byte>)SharedMemoryJobs.Make(1024 * 1024 + seed, seed)))).WaitAsync(TestPools.HangGuard);
        for (var i = 0; i < echoed.Length; i++)
        {
            Assert.Equal(SharedMemoryJobs.Make(1024 * 1024 + 3 + i, 3 + i), echoed[i].ToArray());
        }
    }

    [Trait("Category", "Chaos")]
    [Fact]
    public async Task Workers_killed_with_large_messages_in_flight_leave_no_segment_behind_and_every_job_is_answered()
    {
        var before = Segments().Length;
        Assert.Equal(0, before);
        var killed = 0;
        await using (var pool = await ProcessPool.StartAsync(o => (o.Processes, o.SharedMemoryThreshold) = (2, Threshold)))
        {
            var payloads = Enumerable.Range(0, 40).Select(seed => SharedMemoryJobs.Make(2 * 1024 * 1024, seed)).ToArray();
            var retrying = pool.WithRetries(5);
            var calls = payloads.Select(p => retrying.ApplyAsync(SharedMemoryJobs.EchoLaterAsync, p, 40)).ToArray();
            var all = Task.WhenAll(calls);

            // Kill a worker each time the pool has its two ready again, while calls are still in flight.
            for (var round = 0; round < 4 && !all.IsCompleted; round++)
            {
                await TestPools.WaitUntilAsync(() => all.IsCompleted || TestPools.ReadyWorkerPids(pool).Count == 2);
                var ready = TestPools.ReadyWorkerPids(pool);
                if (ready.Count > 0 && !all.IsCompleted)
                {
                    var victim = ready[0];
                    Process.GetProcessById(victim).Kill();
                    killed++;
                    await TestPools.WaitUntilAsync(() => !TestPools.WorkerPids(pool).Contains(victim));
                }
            }

            var answers = await Task.WhenAll(calls.Select(async call =>
            {
                try
                {
                    return await call.WaitAsync(TestPools.HangGuard);
                }
                catch (WorkerLostException)
                {
                    return null; // retries exhausted: answered, as a loss
                }
            }));
            output.WriteLine($"killed {killed} workers; {answers.Count(a => a is not null)} of {answers.Length} calls answered with their payload");
            for (var i = 0; i < answers.Length; i++)
            {
                if (answers[i] is { } answer)
                {
                    Assert.Equal(payloads[i], answer);
                }
            }

            Assert.True(killed > 0, "no worker was killed while calls were in flight");

            // The dead workers' segments are gone; the two live ones keep at most their free ones, both ways.
            var live = Segments();
            output.WriteLine($"segments with the pool still open: {live.Length}");
            Assert.InRange(live.Length, 0, 2 * 2 * OutgoingSegmentsKeptFree);
        }

        Assert.Equal(before, Segments().Length);
    }

    /// <summary>
    /// Regression: a segment file was made sparse, so a memory file system without room (a container's 64 MiB /dev/shm)
    /// accepted it and then killed the writing process with SIGBUS (exit code 135) when a copy touched a page it could
    /// not give. Its room is reserved when it is made now, and a frame that does not fit goes through the pipe. The test
    /// mounts a 2 MiB tmpfs, which needs root (as .ci/run runs); elsewhere it is skipped, saying so.
    /// </summary>
    [LinuxFact]
    public async Task A_memory_file_system_without_room_sends_a_large_frame_through_the_pipe_instead_of_crashing()
    {
        var directory = Directory.CreateTempSubdirectory("processpool-tmpfs-").FullName;
        try
        {
            if (Run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", directory) is { } refused)
            {
                Assert.Skip($"Mounting a 2 MiB tmpfs needs root and the right to mount: {refused}");
            }

            try
            {
                var plan = new Channels.SharedMemoryPlan(Threshold, Channels.SegmentStore.Directory, directory, $"processpool-{Environment.ProcessId}-tmpfs-1");
                var told = new List<(int Bytes, Exception Reason)>();
                using var segments = new Channels.OutgoingSegments(plan, Channels.SharedMemoryPlan.Parent, (bytes, reason) => told.Add((bytes, reason)));
                var pipe = new MemoryStream();
                var writer = new Channels.FrameWriter(pipe, segments);

                Assert.True(writer.TryWrite(new Channels.OutgoingFrame(Channels.FrameType.Result, 1, SharedMemoryJobs.Make(3_000_000, 1)))); // over the room
                Assert.True(writer.TryWrite(new Channels.OutgoingFrame(Channels.FrameType.Result, 2, SharedMemoryJobs.Make(500_000, 2)))); // fits

                var (bytes, reason) = Assert.Single(told);
                Assert.Equal(3_000_000, bytes);
                Assert.IsAssignableFrom<IOException>(reason);
                Assert.Equal(1, segments.Lent); // the second one went in a segment
                Assert.InRange(pipe.Length, 3_000_000, 3_000_100); // the first one through the pipe
            }
            finally
            {
                Assert.Null(Run("umount", directory));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        static string? Run(string program, params string[] arguments)
        {
            var start = new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            try
            {
                using var process = Process.Start(start)!;
                var error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                return process.ExitCode == 0 ? null : $"{program} exited with {process.ExitCode}: {error.Trim()}";
            }
            catch (System.ComponentModel.Win32Exception exception)
            {
                return $"{program} could not start: {exception.Message}";
            }
        }
    }

    /// <summary>How many free segments each side keeps (OutgoingSegments.KeptFree).</summary>
    private const int OutgoingSegmentsKeptFree = 2;
}
