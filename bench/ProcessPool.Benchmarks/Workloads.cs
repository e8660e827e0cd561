using System.Diagnostics;
using System.Globalization;

namespace ProcessPools.Benchmarks;

/// <summary>The sizes of one run; <see cref="Quick"/> turns everything down for a smoke run.</summary>
/// <remarks>
/// Throughput workloads repeat unmeasured rounds for <see cref="WarmUp"/> (at least one), then run <see cref="Rounds"/>
/// measured ones whose median is reported, for ours and the baseline alike. A round of 20 000 jobs takes ~0.1 s,
/// far shorter than the runtime's tiered compilation needs to reach its final code in the parent and in each
/// worker: measured here, one round after a 1 000-job warm-up ran at 150-180 k jobs/s, after 5 rounds still
/// ~160 k, after 3 s of rounds 500 k+; with <c>DOTNET_TieredCompilation=0</c> (optimised code from the first
/// call) 400 k+ from the first round.
/// </remarks>
internal sealed record Sizes(
    int ColdStarts, int RoundTrips, int ConcurrentJobs, int MapItems, int IoJobs, int IoDelayMs, long CpuIterations, int RecycledJobs, TimeSpan Idle,
    TimeSpan WarmUp, int Rounds, int Crashes)
{
    /// <summary>The payload workload's sizes in bytes (<c>--payload-sizes 1M,256M</c>); null for its own list.</summary>
    public int[]? Payloads { get; init; }

    public static Sizes Full => new(5, 20_000, 20_000, 1_000_000, 2_000, 50, 400_000_000, 100, TimeSpan.FromSeconds(10), WarmUp: TimeSpan.FromSeconds(3), Rounds: 5, Crashes: 5);

    public static Sizes Quick => new(1, 300, 500, 5_000, 128, 20, 2_000_000, 6, TimeSpan.FromMilliseconds(500), WarmUp: TimeSpan.Zero, Rounds: 1, Crashes: 1);
}

/// <summary>The workloads Python's pools are judged by, each next to its baseline measured in the same run.</summary>
internal sealed partial class Workloads(Sizes sizes, Action<string> log)
{
    private readonly List<Row> _rows = [];

    public IReadOnlyList<Row> Rows => _rows;

    public async Task RunAsync(ISet<string> only)
    {
        await Step("cold-start", ColdStartAsync);
        await Step("round-trip", RoundTripAsync);
        await Step("throughput", ThroughputAsync);
        await Step("map", MapAsync);
        await Step("io", IoBoundAsync);
        await Step("cpu", CpuBoundAsync);
        await Step("recycle", RecyclingAsync);
        await Step("idle", IdleAsync);
        await Step("crash", CrashAsync);
        await Step("payload", PayloadAsync);
        await Step("dashboard", DashboardAsync);
        await Step("http", HttpAsync);
        await Step("anchors", AnchorsAsync);
#if BENCH_CLUSTER
        await Step("cluster", ClusterAsync);
#else
        log("cluster: left out of the Native AOT build (Orleans has no Native AOT support)");
#endif

        async Task Step(string name, Func<Task> run)
        {
            if (only.Count == 0 || only.Contains(name))
            {
                log($"running {name}...");
                await run();
            }
        }
    }

    private async Task ColdStartAsync()
    {
        var ours = new List<double>();
        var floor = new List<double>();
        for (var i = 0; i < sizes.ColdStarts; i++)
        {
            var clock = Stopwatch.StartNew();
            await using (var pool = await BenchPools.StartAsync(o => o.Processes = 2))
            {
                await pool.ApplyAsync(BenchJobs.TrivialAsync, 1);
                ours.Add(clock.Elapsed.TotalMilliseconds);
            }

            floor.Add(TransportFloor.StartToFirstEcho().TotalMilliseconds);
        }

        Add("cold start (2 workers)", "start to first result", "ms", Median(ours), null, Median(floor), 120, higherIsBetter: false);
    }

    private async Task RoundTripAsync()
    {
        await using var pool = await BenchPools.StartAsync(o => o.Processes = 1);
        using var echo = TransportFloor.StartPingPong();
        var timings = await InterleavedAsync(
            i => pool.ApplyAsync(BenchJobs.TrivialAsync, i),
            i => Task.Run(() => BenchJobs.TrivialAsync(i)),
            _ =>
            {
                echo.RoundTrip();
                return Task.CompletedTask;
            });
        var (ours, inProcess, floor) = (timings[0], timings[1], timings[2]);
        Add("round trip", "p50", "us", Percentile(ours, 50), Percentile(inProcess, 50), Percentile(floor, 50), 30, higherIsBetter: false);
        Add("round trip", "p99", "us", Percentile(ours, 99), Percentile(inProcess, 99), Percentile(floor, 99), null, higherIsBetter: false);
        Add("round trip", "p50 / transport floor p50", "x", Percentile(ours, 50) / Percentile(floor, 50), null, null, 2, higherIsBetter: false);
        if (TransportFloor.CanSpin)
        {
            // The same ping-pong with both sides polling instead of sleeping: the pipe alone, without a reader's wake-up.
            var spinning = TransportFloor.Measure(sizes.RoundTrips, sizes.WarmUp, spin: true);
            Add("round trip", "p50 against a spinning floor", "us", Percentile(ours, 50), null, Percentile(spinning, 50), null, higherIsBetter: false);
            Add("round trip", "p99 against a spinning floor", "us", Percentile(ours, 99), null, Percentile(spinning, 99), null, higherIsBetter: false);
        }
    }

    /// <summary>
    /// Large arguments and results (a byte[] each way) from 1 KiB to 256 MiB, in MiB/s: ours through the pipe and through
    /// shared memory, against the raw pipe moving the same bytes into a reused buffer (the floor) and into a fresh one
    /// per message, and against a plain memory copy into a new array (what the job's own array costs at least), all
    /// measured in the same run.
    /// </summary>
    private async Task PayloadAsync()
    {
        int[] payloads = sizes.Payloads ?? (sizes.Rounds == 1 ? [1 << 10, 1 << 20] : [1 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20, 256 << 20]);
        const int MaxMessage = (256 << 20) + 4096;
        await using var pool = await BenchPools.StartAsync(o => (o.Processes, o.MaxMessageSize) = (1, MaxMessage));
        await using var shared = await BenchPools.StartAsync(o => (o.Processes, o.MaxMessageSize, o.SharedMemoryThreshold) = (1, MaxMessage, 64 << 10));
        var floors = new Dictionary<int, (double ToChild, double FromChild)>();
        foreach (var size in payloads)
        {
            var count = Math.Clamp((512 << 20) / size, 3, 200);
            var data = new byte[size];
            Random.Shared.NextBytes(data);
            var (toWorker, toParent) = await MeasurePayloadAsync(pool, data, count);
            var label = size >= 1 << 20 ? $"{size >> 20} MiB" : $"{size >> 10} KiB";
            // The floor is the pipe as the pool uses it: grown to 1 MiB for large frames on Linux (PipeCapacity).
            var grown = size > 64 << 10 ? TransportFloor.GrownPipeCapacity : 0;
            var floor = TransportFloor.MeasureBulk(size, fresh: false, count, grown);
            floors[size] = floor;
            var fresh = TransportFloor.MeasureBulk(size, fresh: true, count, grown);
            log($"  {label}: fresh-buffer pipe {fresh.ToChild:N0} / {fresh.FromChild:N0} MiB/s (to the child / from it)");
            Add($"payload {label}", "to the worker", "MiB/s", toWorker, null, floor.ToChild, null, higherIsBetter: true);
            Add($"payload {label}", "to the parent", "MiB/s", toParent, null, floor.FromChild, null, higherIsBetter: true);
            if (grown > 0)
            {
                var small = TransportFloor.MeasureBulk(size, fresh: false, count);
                Add($"payload {label}", "raw pipe at its default 64 KiB, reused buffer: to the child", "MiB/s", small.ToChild, null, floor.ToChild, null, higherIsBetter: true);
                Add($"payload {label}", "raw pipe at its default 64 KiB, reused buffer: from the child", "MiB/s", small.FromChild, null, floor.FromChild, null, higherIsBetter: true);
            }
            if (size >= 64 << 10)
            {
                var (sharedToWorker, sharedToParent) = await MeasurePayloadAsync(shared, data, count);
                var (copyNew, copyReused) = MeasureMemoryCopy(data, count);
                log($"  {label}: memory copy into a new array {copyNew:N0} MiB/s, into a reused one {copyReused:N0} MiB/s");
                Add($"payload {label}", "to the worker, shared memory (vs a copy into a new array)", "MiB/s", sharedToWorker, null, copyNew, null, higherIsBetter: true);
                Add($"payload {label}", "to the parent, shared memory (vs a copy into a new array)", "MiB/s", sharedToParent, null, copyNew, null, higherIsBetter: true);
                var lentToWorker = await MeasureTransfersAsync(size, count, ("worker", () => pool.ApplyAsync(BenchJobs.MemoryLengthAsync, (ReadOnlyMemory<byte>)data)), ("worker", () => shared.ApplyAsync(BenchJobs.MemoryLengthAsync, (ReadOnlyMemory<byte>)data)));
                Add($"payload {label}", "to the worker, ReadOnlyMemory<byte> argument", "MiB/s", lentToWorker[0], null, floor.ToChild, null, higherIsBetter: true);
                Add($"payload {label}", "to the worker, shared memory, ReadOnlyMemory<byte> argument", "MiB/s", lentToWorker[1], null, copyNew, null, higherIsBetter: true);
                var lentToParent = await MeasureTransfersAsync(size, count, ("parent", () => OwnedLengthAsync(pool, size)), ("parent", () => OwnedLengthAsync(shared, size)));
                Add($"payload {label}", "to the parent, IMemoryOwner<byte> result", "MiB/s", lentToParent[0], null, floor.FromChild, null, higherIsBetter: true);
                Add($"payload {label}", "to the parent, shared memory, IMemoryOwner<byte> result", "MiB/s", lentToParent[1], null, copyNew, null, higherIsBetter: true);
            }
        }

        // The anchor: multiprocessing.Pool with the same sizes, after ours, in the same run.
        await foreach (var (size, toWorker, toParent) in PythonPayloadAsync(payloads))
        {
            var label = size >= 1 << 20 ? $"{size >> 20} MiB" : $"{size >> 10} KiB";
            Add($"payload {label}", "to the worker, multiprocessing.Pool", "MiB/s", toWorker, null, floors[size].ToChild, null, higherIsBetter: true);
            Add($"payload {label}", "to the parent, multiprocessing.Pool", "MiB/s", toParent, null, floors[size].FromChild, null, higherIsBetter: true);
        }
    }

    /// <summary>A payload answered as an IMemoryOwner&lt;byte&gt;: its length, read before the buffer goes back.</summary>
    private static async Task<int> OwnedLengthAsync(IProcessPool pool, int size)
    {
        using var owned = await pool.ApplyAsync(BenchJobs.OwnedPayloadAsync, size);
        return owned.Memory.Length;
    }

    /// <summary>Medians of <paramref name="count"/> sends of <paramref name="data"/> to a job and as many answers of its size, in MiB/s, after one warm-up.</summary>
    private static async Task<(double ToWorker, double ToParent)> MeasurePayloadAsync(IProcessPool pool, byte[] data, int count)
    {
        var rates = await MeasureTransfersAsync(
            data.Length,
            count,
            ("worker", () => pool.ApplyAsync(BenchJobs.LengthAsync, data)),
            ("parent", async () => (await pool.ApplyAsync(BenchJobs.PayloadAsync, data.Length)).Length));
        return (rates[0], rates[1]);
    }

    /// <summary>
    /// The median rate, in MiB/s, of each transfer of <paramref name="size"/> bytes (it answers how many arrived), run
    /// <paramref name="count"/> times in turn with the others, after one warm-up round.
    /// </summary>
    private static async Task<double[]> MeasureTransfersAsync(int size, int count, params (string Receiver, Func<Task<int>> Transfer)[] transfers)
    {
        var rates = transfers.Select(_ => new List<double>()).ToArray();
        for (var i = 0; i < count + 1; i++)
        {
            for (var t = 0; t < transfers.Length; t++)
            {
                var clock = Stopwatch.StartNew();
                if (await transfers[t].Transfer() != size)
                {
                    throw new InvalidOperationException($"the {transfers[t].Receiver} did not receive the whole payload");
                }

                if (i > 0)
                {
                    rates[t].Add(size / 1048576.0 / clock.Elapsed.TotalSeconds);
                }
            }
        }

        return [.. rates.Select(Median)];
    }

    /// <summary>
    /// A memory copy of <paramref name="data"/>, in MiB/s (medians of <paramref name="count"/>): into a new array each
    /// time (its pages faulted in, as a job's own array's are), and into one array reused.
    /// </summary>
    private static (double IntoNew, double IntoReused) MeasureMemoryCopy(byte[] data, int count)
    {
        var intoNew = new List<double>();
        var intoReused = new List<double>();
        var reused = new byte[data.Length];
        for (var i = 0; i < count + 1; i++)
        {
            var clock = Stopwatch.StartNew();
            var copy = GC.AllocateUninitializedArray<byte>(data.Length);
            data.CopyTo(copy);
            var made = clock.Elapsed.TotalSeconds;
            GC.KeepAlive(copy);
            clock.Restart();
            data.CopyTo(reused);
            if (i > 0)
            {
                intoNew.Add(data.Length / 1048576.0 / made);
                intoReused.Add(data.Length / 1048576.0 / clock.Elapsed.TotalSeconds);
            }
        }

        return (Median(intoNew), Median(intoReused));
    }

    /// <summary>A program's full path from PATH (wrk, python3); null when it is not installed.</summary>
    internal static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>bench/anchors/payload.py's figures (MiB/s each way per size), where python3 is installed; none otherwise.</summary>
    private async IAsyncEnumerable<(int Size, double ToWorker, double ToParent)> PythonPayloadAsync(int[] payloads)
    {
        var python = FindOnPath("python3");
        var script = Path.Combine(AppContext.BaseDirectory, "anchors", "payload.py");
        if (python is null || !File.Exists(script))
        {
            log($"  multiprocessing.Pool: left out ({(python is null ? "python3 not found" : $"{script} not found")})");
            yield break;
        }

        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var size in payloads)
        {
            start.ArgumentList.Add(size.ToString(CultureInfo.InvariantCulture));
        }

        using var process = Process.Start(start)!;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            using var answer = System.Text.Json.JsonDocument.Parse(line);
            var root = answer.RootElement;
            yield return (root.GetProperty("size").GetInt32(), root.GetProperty("toWorker").GetDouble(), root.GetProperty("toParent").GetDouble());
        }

        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench/anchors/payload.py failed with exit code {process.ExitCode}");
        }
    }

    /// <summary>
    /// Python's pools on the README table's workloads (bench/anchors/pools.py: multiprocessing.Pool and
    /// ProcessPoolExecutor, 2 workers, fork), run by this process so that they share its window: each figure a row of
    /// its own, named by its pool. Left out, saying why, where python3 is not installed.
    /// </summary>
    private async Task AnchorsAsync()
    {
        var python = FindOnPath("python3");
        var script = Path.Combine(AppContext.BaseDirectory, "anchors", "pools.py");
        if (python is null || !File.Exists(script))
        {
            log($"  Python's pools: left out ({(python is null ? "python3 not found" : $"{script} not found")})");
            return;
        }

        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(sizes.ConcurrentJobs.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(sizes.MapItems.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start)!;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            using var figure = System.Text.Json.JsonDocument.Parse(line);
            var root = figure.RootElement;
            var unit = root.GetProperty("unit").GetString()!;
            Add(
                $"{root.GetProperty("pool").GetString()}: {root.GetProperty("workload").GetString()}",
                root.GetProperty("metric").GetString()!,
                unit,
                root.GetProperty("value").GetDouble(),
                null,
                null,
                null,
                higherIsBetter: unit.EndsWith("/s", StringComparison.Ordinal));
        }

        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench/anchors/pools.py failed with exit code {process.ExitCode}");
        }
    }

    /// <summary>The lost-worker rule's latencies (a job of a killed worker fails; orphans of a killed parent exit), each at most 2 s.</summary>
    private async Task CrashAsync()
    {
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            log("  skipped in the Native AOT build: its held job reports progress (IProgress<T>), which only the reflection path binds");
            return;
        }

        var lost = new List<double>();
        await using (var pool = await BenchPools.StartAsync(o => o.Processes = 1))
        {
            for (var i = 0; i < sizes.Crashes; i++)
            {
                lost.Add(await CrashProbe.KilledWorkerToFailedJobAsync(pool));
            }
        }

        var orphans = new List<double>();
        for (var i = 0; i < sizes.Crashes; i++)
        {
            orphans.Add(await CrashProbe.KilledParentToOrphansGoneAsync());
        }

        Add("worker killed mid-job (SIGKILL)", "until its job fails", "ms", Median(lost), null, null, 2_000, higherIsBetter: false);
        Add("parent killed (SIGKILL), 2 workers", "until both workers exited", "ms", Median(orphans), null, null, 2_000, higherIsBetter: false);
    }

    private async Task ThroughputAsync()
    {
        await using var pool = await BenchPools.StartAsync();
        var ours = await SteadyRateAsync(sizes.ConcurrentJobs, () => Task.WhenAll(Enumerable.Range(0, sizes.ConcurrentJobs).Select(i => pool.ApplyAsync(BenchJobs.TrivialAsync, i))));
        var inProcess = await SteadyRateAsync(sizes.ConcurrentJobs, () => Task.WhenAll(Enumerable.Range(0, sizes.ConcurrentJobs).Select(i => Task.Run(() => BenchJobs.TrivialAsync(i)))));
        Add($"{sizes.ConcurrentJobs:N0} concurrent ApplyAsync", "throughput", "jobs/s", ours, inProcess, null, 500_000, higherIsBetter: true);
    }

    private async Task MapAsync()
    {
        await using var pool = await BenchPools.StartAsync();
        var awaited = await SteadyRateAsync(sizes.MapItems, () => pool.Map(BenchJobs.TrivialAsync, Enumerable.Range(0, sizes.MapItems)).ToListAsync());
        var streaming = await SteadyRateAsync(sizes.MapItems, async () =>
        {
            await foreach (var _ in pool.Map(BenchJobs.TrivialAsync, Enumerable.Range(0, sizes.MapItems)))
            {
            }
        });

        var inProcess = await SteadyRateAsync(sizes.MapItems, () => Parallel.ForEachAsync(Enumerable.Range(0, sizes.MapItems), async (i, _) => await BenchJobs.TrivialAsync(i)));
        Add($"Map of {sizes.MapItems:N0}", "awaited", "items/s", awaited, inProcess, null, 7_000_000, higherIsBetter: true);
        Add($"Map of {sizes.MapItems:N0}", "await foreach", "items/s", streaming, inProcess, null, 7_000_000, higherIsBetter: true);
    }

    /// <summary>The durations (us) of sequential calls once the code is warm: after at least 2 000 calls and the warm-up time.</summary>
    /// <summary>
    /// Sequential calls of each kind, timed in alternating blocks (each kind warmed up first, for at least 2,000 calls and
    /// <see cref="Sizes.WarmUp"/>), so that every kind sees the same states of the machine: measured one after the
    /// other, a change between them (this virtual machine's cores awake or halted, a neighbour's load) moved their
    /// ratio from run to run. Returns each kind's timings in microseconds, <see cref="Sizes.RoundTrips"/> of each.
    /// </summary>
    private async Task<double[][]> InterleavedAsync(params Func<int, Task>[] calls)
    {
        const int Blocks = 10;
        foreach (var call in calls)
        {
            var warming = Stopwatch.StartNew();
            for (var i = 0; i < Math.Min(2_000, sizes.RoundTrips) || warming.Elapsed < sizes.WarmUp; i++)
            {
                await call(i);
            }
        }

        var timings = calls.Select(_ => new double[sizes.RoundTrips]).ToArray();
        var perBlock = (sizes.RoundTrips + Blocks - 1) / Blocks;
        for (var start = 0; start < sizes.RoundTrips; start += perBlock)
        {
            for (var kind = 0; kind < calls.Length; kind++)
            {
                for (var i = start; i < Math.Min(start + perBlock, sizes.RoundTrips); i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    await calls[kind](i);
                    timings[kind][i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                }
            }
        }

        return timings;
    }

    /// <summary>Items per second of a round once the code is warm: the median of the measured rounds after the warm-up.</summary>
    private async Task<double> SteadyRateAsync(int items, Func<Task> round)
    {
        var warming = Stopwatch.StartNew();
        do
        {
            await round();
        }
        while (warming.Elapsed < sizes.WarmUp);

        var rates = new List<double>();
        for (var i = 0; i < sizes.Rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            await round();
            rates.Add(items / clock.Elapsed.TotalSeconds);
        }

        return Median(rates);
    }

    private async Task IoBoundAsync()
    {
        const int Processes = 2, Concurrency = 64;
        var ideal = Math.Ceiling(sizes.IoJobs / (double)(Processes * Concurrency)) * sizes.IoDelayMs;
        await using var pool = await BenchPools.StartAsync(o => (o.Processes, o.ChildConcurrency) = (Processes, Concurrency));
        await pool.ApplyAsync(BenchJobs.WaitAsync, 1);
        var clock = Stopwatch.StartNew();
        await pool.Map(BenchJobs.WaitAsync, Enumerable.Repeat(sizes.IoDelayMs, sizes.IoJobs));
        var ours = ideal / clock.Elapsed.TotalMilliseconds * 100;

        using var slots = new SemaphoreSlim(Processes * Concurrency);
        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, sizes.IoJobs).Select(async _ =>
        {
            await slots.WaitAsync();
            try
            {
                await BenchJobs.WaitAsync(sizes.IoDelayMs);
            }
            finally
            {
                slots.Release();
            }
        }));
        var inProcess = ideal / clock.Elapsed.TotalMilliseconds * 100;
        Add($"IO-bound: {sizes.IoJobs:N0} x {sizes.IoDelayMs} ms, 2 x 64", "efficiency", "%", ours, inProcess, null, 97, higherIsBetter: true);
    }

    private async Task CpuBoundAsync()
    {
        BenchJobs.Spin(sizes.CpuIterations / 10); // JIT and frequency warm-up
        var single = Median([.. Enumerable.Range(0, 3).Select(_ => Time(() => BenchJobs.Spin(sizes.CpuIterations)))]);
        var cores = Environment.ProcessorCount;
        const int Jobs = 4;
        var ideal = Math.Ceiling(Jobs / (double)cores) * single;

        await using var pool = await BenchPools.StartAsync();
        await pool.ApplyAsync(BenchJobs.SpinAsync, 1_000L);
        var clock = Stopwatch.StartNew();
        await pool.Map(BenchJobs.SpinAsync, Enumerable.Repeat(sizes.CpuIterations, Jobs));
        var ours = ideal / clock.Elapsed.TotalMilliseconds * 100;

        clock.Restart();
        await Task.WhenAll(Enumerable.Range(0, Jobs).Select(_ => Task.Run(() => BenchJobs.Spin(sizes.CpuIterations))));
        var inProcess = ideal / clock.Elapsed.TotalMilliseconds * 100;
        Add($"CPU-bound: 4 x {single:0} ms on {cores} cores", "efficiency", "%", ours, inProcess, null, 95, higherIsBetter: true);

        static double Time(Action action)
        {
            var clock = Stopwatch.StartNew();
            action();
            return clock.Elapsed.TotalMilliseconds;
        }
    }

    private async Task RecyclingAsync()
    {
        await using var pool = await BenchPools.StartAsync(o => (o.MaxTasksPerChild, o.SpareWorkers) = (1, 2));
        await Task.Delay(TimeSpan.FromSeconds(1)); // let the spares start
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, sizes.RecycledJobs).Select(i => pool.ApplyAsync(BenchJobs.TrivialAsync, i)));
        var ours = sizes.RecycledJobs / clock.Elapsed.TotalSeconds;

        // The process-start floor: processes of this build that build and start an empty generic host, then answer,
        // started two at a time (as the pool's two slots recycle).
        clock.Restart();
        var starts = 0;
        while (starts < sizes.RecycledJobs)
        {
            await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => TransportFloor.StartToFirstEcho(withHost: true))));
            starts += 2;
        }

        var floor = starts / clock.Elapsed.TotalSeconds;
        Add($"recycling: MaxTasksPerChild = 1, 2 spares, {sizes.RecycledJobs} jobs", "throughput", "jobs/s", ours, null, floor, null, higherIsBetter: true);
        Add("recycling", "process-start floor / ours", "x", floor / ours, null, null, 1.3, higherIsBetter: false);
    }

    private async Task IdleAsync()
    {
        await using var pool = await BenchPools.StartAsync(o => o.Processes = 2);
        await pool.ApplyAsync(BenchJobs.TrivialAsync, 1);
        var workers = (await pool.GetStatusAsync()).Workers.Where(w => w.ProcessId is not null).Select(w => w.ProcessId!.Value).ToArray();
        // Steady state, not start-up: the runtime recompiles hot start-up methods in the background for a
        // second or two after a process starts (tiered compilation), which is not idle cost.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var parentBefore = CpuSeconds(Environment.ProcessId);
        var childrenBefore = workers.Sum(CpuSeconds);
        await Task.Delay(sizes.Idle);
        var parentCpu = (CpuSeconds(Environment.ProcessId) - parentBefore) / sizes.Idle.TotalSeconds * 100;
        var childrenCpu = (workers.Sum(CpuSeconds) - childrenBefore) / sizes.Idle.TotalSeconds * 100;
        var rss = workers.Max(ResidentMiB);
        var floorRss = TransportFloor.EchoChildResidentMiB();
        log($"  idle CPU: parent {parentCpu:0.###} %, workers {childrenCpu:0.###} %");
        Add("idle, 2 workers", "CPU, parent + workers", "%", parentCpu + childrenCpu, null, null, 0.5, higherIsBetter: false);
        Add("idle worker", "resident memory", "MiB", rss, null, floorRss, 32, higherIsBetter: false);
    }

    /// <summary>CPU time of a process, in seconds, user and kernel (on Linux in 10 ms ticks, hence the long idle window). Any OS.</summary>
    internal static double CpuSeconds(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Resident memory of a process (Linux VmRSS, the working set on Windows, resident size on macOS), in MiB.</summary>
    internal static double ResidentMiB(int pid)
    {
        using var process = Process.GetProcessById(pid);
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }

    private void Add(string workload, string metric, string unit, double ours, double? inProcess, double? floor, double? target, bool higherIsBetter)
    {
        var row = new Row(workload, metric, unit, ours, inProcess, floor, target, higherIsBetter);
        _rows.Add(row);
        log($"  {workload} / {metric}: {Report.Format(ours, unit)} (in-process {Report.Format(inProcess, unit)}, floor {Report.Format(floor, unit)})");
    }

    private static double Median(IReadOnlyList<double> values) => Percentile([.. values], 50);

    private static double Percentile(double[] values, double percentile)
    {
        var sorted = values.Order().ToArray();
        var index = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}
