using System.Diagnostics;
using ConsoleSample;
using ProcessPools;
using ProcessPools.Worker;

// Needed only for LaunchMode.ApplicationEntryPoint (single-file and self-contained apps): this program is
// then relaunched as its own workers, and hands over to the worker loop first thing.
if (WorkerEntryPoint.IsWorkerProcess)
{
    return await WorkerEntryPoint.RunAsync();
}

// A console tool with no host: start a pool, use it, dispose it (which drains it).
// Arguments: [count] [--launch-mode=Auto|WorkerAssembly|ApplicationEntryPoint] [--progress]
var count = args.FirstOrDefault(a => int.TryParse(a, out _)) is { } number ? int.Parse(number, System.Globalization.CultureInfo.InvariantCulture) : 40;
var launchMode = args.FirstOrDefault(a => a.StartsWith("--launch-mode=", StringComparison.Ordinal)) is { } mode
    ? Enum.Parse<WorkerLaunchMode>(mode["--launch-mode=".Length..])
    : WorkerLaunchMode.Auto;
await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.LaunchMode) = (Math.Max(2, Environment.ProcessorCount), launchMode));
Console.WriteLine($"Pool started; this process is {Environment.ProcessId}; launch mode {launchMode}: workers run {await pool.ApplyAsync(Work.DescribeProcessAsync)}.");

// apply: one job, awaited.
var (primes, pid) = await pool.ApplyAsync(Work.CountPrimesAsync, 2_000_000);
Console.WriteLine($"apply: {primes} primes below 2 000 000, counted in worker {pid}");

// map: many jobs, results in input order.
var clock = Stopwatch.StartNew();
var results = await pool.Map(Work.CountPrimesAsync, Enumerable.Range(1, count).Select(i => i * 50_000));
Console.WriteLine($"map: {results.Count} ranges in {clock.ElapsedMilliseconds} ms on {results.Select(r => r.Pid).Distinct().Count()} workers; last: {results[^1].Primes} primes below {count * 50_000}");

// as completed: whatever finishes first comes first.
await foreach (var (index, result) in pool.Map(Work.CountPrimesAsync, [3_000_000, 10, 1_000_000]).AsCompleted())
{
    Console.WriteLine($"as completed: item {index} -> {result.Primes} primes");
}

// starmap: a tuple of arguments per job.
var sums = await pool.StarMap(Work.AddAsync, [(1, 2), (3, 4), (5, 6)]);
Console.WriteLine($"starmap: {string.Join(", ", sums)}");

// a job that throws: its type, message and stack come back.
try
{
    await pool.ApplyAsync(Work.FailAsync, "no such file");
}
catch (RemoteJobException e) when (e.Is<FileNotFoundException>())
{
    Console.WriteLine($"exception: {e.RemoteType}: {e.RemoteMessage}");
}

// one job in a dedicated process, like aiomultiprocess's Worker.
await using var worker = await WorkerProcess.StartAsync(Work.CountPrimesAsync, 500_000);
var single = await worker;
Console.WriteLine($"worker process {worker.ProcessId}: {single.Primes} primes, exit code {await worker.WaitForExitAsync()}");

// --progress: a longer map with a live progress bar, drawn from the map's own counts.
if (args.Contains("--progress"))
{
    var map = pool.Map(Work.CountPrimesAsync, Enumerable.Range(1, 400).Select(i => 20_000 + (i * 5_000)));
    var all = map.ToListAsync();
    using var redraw = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
    while (!all.IsCompleted)
    {
        Draw(map.Progress);
        await Task.WhenAny(all, redraw.WaitForNextTickAsync().AsTask());
    }

    Draw(map.Progress);
    Console.WriteLine($"{Environment.NewLine}progress: {(await all).Count} ranges counted");
}

return 0;

static void Draw(MapProgress progress)
{
    var total = progress.Total ?? progress.Done + progress.Pending;
    var filled = total == 0 ? 0 : progress.Done * 40 / total;
    Console.Write($"\r[{new string('#', filled)}{new string('.', 40 - filled)}] {progress.Done}/{total} done, {progress.Pending} pending, {progress.Failed} failed");
}

namespace ConsoleSample
{
    /// <summary>Jobs are static methods: only their identity and arguments cross into the worker.</summary>
    public static class Work
    {
        public static Task<(int Primes, int Pid)> CountPrimesAsync(int below)
        {
            var sieve = new bool[Math.Max(below, 2)];
            var primes = 0;
            for (var i = 2; i < below; i++)
            {
                if (sieve[i])
                {
                    continue;
                }

                primes++;
                for (long j = (long)i * i; j < below; j += i)
                {
                    sieve[j] = true;
                }
            }

            return Task.FromResult((primes, Environment.ProcessId));
        }

        public static Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

        /// <summary>What the worker process runs: ProcessPool.Worker.dll, or this program relaunched.</summary>
        public static Task<string> DescribeProcessAsync() => Task.FromResult(Path.GetFileName(Environment.GetCommandLineArgs()[0]));

        public static Task<int> FailAsync(string path) => throw new FileNotFoundException(path);
    }
}
