using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ProcessPools.Benchmarks;

/// <summary>
/// The shape most users have: a web app whose requests run jobs. bench/ProcessPool.HttpBench (a minimal API) answers
/// the same jobs in-process, through the pool and through a one-off WorkerProcess; wrk (Debian's, 64 connections)
/// drives it after a warm-up, or, where wrk is missing, a load loop over SocketsHttpHandler in this process.
/// </summary>
internal sealed partial class Workloads
{
    private async Task HttpAsync()
    {
        var seconds = sizes.Rounds > 1 ? 10 : 1;
        var load = LoadGenerator.Find(log, warmUpSeconds: sizes.Rounds > 1 ? 3 : 1);
        await using (var app = await HttpBenchApp.StartAsync(log, "--ProcessPool:MaxRetries=2"))
        {
            // Alternately, twice each, so that neither side gets the warmer app: the mean of the two.
            var inProcess1 = await load.RunAsync(app.Url("/inprocess/square?x=7"), 64, seconds);
            var pool1 = await load.RunAsync(app.Url("/pool/square?x=7"), 64, seconds);
            var inProcess2 = await load.RunAsync(app.Url("/inprocess/square?x=7"), 64, seconds);
            var pool2 = await load.RunAsync(app.Url("/pool/square?x=7"), 64, seconds);
            var inProcess = LoadResult.Mean(inProcess1, inProcess2);
            var pool = LoadResult.Mean(pool1, pool2);
            var health = await load.RunAsync(app.Url("/health"), 64, seconds);
            var worker = await load.RunAsync(app.Url("/worker/square?x=7"), 4, seconds);
            var memory = Workloads.ResidentMiB(app.ProcessId);
            log($"  in-process {inProcess1} then {inProcess2}; pool {pool1} then {pool2}; /health {health}; WorkerProcess {worker}; app {memory:0} MiB");
            Add("HTTP, trivial job, 64 connections", "requests/s, through the pool", "req/s", pool.RequestsPerSecond, inProcess.RequestsPerSecond, null, null, higherIsBetter: true);
            Add("HTTP, trivial job", "pool / in-process requests/s", "x", pool.RequestsPerSecond / inProcess.RequestsPerSecond, null, null, 0.9, higherIsBetter: true);
            Add("HTTP, trivial job", "p50, through the pool", "ms", pool.P50Ms, inProcess.P50Ms, null, null, higherIsBetter: false);
            Add("HTTP, trivial job", "p99 pool / p99 in-process", "x", pool.P99Ms / inProcess.P99Ms, null, null, 2, higherIsBetter: false);
            Add("HTTP, /health (no job)", "requests/s", "req/s", health.RequestsPerSecond, null, null, null, higherIsBetter: true);
            Add("HTTP, one-off WorkerProcess per request, 4 connections", "requests/s", "req/s", worker.RequestsPerSecond, null, null, null, higherIsBetter: true);
            Add("HTTP app with its pool (2 workers)", "app resident memory", "MiB", memory, null, null, null, higherIsBetter: false);

            // A worker SIGKILLed every 2 s under load: with MaxRetries = 2 no request may fail.
            using var storm = new CancellationTokenSource();
            var kills = KillStormAsync(app, storm.Token);
            var stormed = await load.RunAsync(app.Url("/pool/square?x=7"), 64, Math.Max(seconds, 6));
            await storm.CancelAsync();
            var killed = await kills;
            log($"  kill storm: {killed} workers killed; {stormed}");
            Add($"HTTP under a kill storm ({killed} workers SIGKILLed, MaxRetries = 2)", "non-2xx answers", "", stormed.Failures, null, null, 0, higherIsBetter: false);
        }

        // CPU-heavy requests (a JPEG resized per request) saturate the machine; /health beside them shows whether the
        // request threads stay free: in-process the work holds them, through the pool it runs in the workers.
        await using (var app = await HttpBenchApp.StartAsync(log))
        {
            var (inProcessCpu, inProcessHealth) = await BesideAsync(load, app, "/inprocess/thumbnail", seconds);
            var (poolCpu, poolHealth) = await BesideAsync(load, app, "/pool/thumbnail", seconds);
            log($"  thumbnails in-process {inProcessCpu}, /health beside {inProcessHealth}; through the pool {poolCpu}, /health beside {poolHealth}");
            Add("HTTP, JPEG thumbnail per request, 64 connections", "requests/s, through the pool", "req/s", poolCpu.RequestsPerSecond, inProcessCpu.RequestsPerSecond, null, null, higherIsBetter: true);
            Add("HTTP, /health beside saturating thumbnails", "p99 in-process / p99 through the pool", "x", inProcessHealth.P99Ms / poolHealth.P99Ms, null, null, 5, higherIsBetter: true);
        }
    }

    private static async Task<(LoadResult Work, LoadResult Health)> BesideAsync(LoadGenerator load, HttpBenchApp app, string path, int seconds)
    {
        var work = load.RunAsync(app.Url(path), 64, seconds);
        var health = load.RunAsync(app.Url("/health"), 4, seconds);
        return (await work, await health);
    }

    /// <summary>Kills one of the pool's workers every 2 s until cancelled; answers how many it killed.</summary>
    private static async Task<int> KillStormAsync(HttpBenchApp app, CancellationToken cancellationToken)
    {
        var killed = 0;
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(2));
        try
        {
            while (await tick.WaitForNextTickAsync(cancellationToken))
            {
                var pids = await app.WorkerPidsAsync(cancellationToken);
                if (pids.Length == 0)
                {
                    continue;
                }

                try
                {
                    using var worker = Process.GetProcessById(pids[killed % pids.Length]);
                    worker.Kill();
                    killed++;
                }
                catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
                {
                    // It left between the listing and the kill.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return killed;
    }
}

/// <summary>bench/ProcessPool.HttpBench run as its own process on a free loopback port.</summary>
internal sealed class HttpBenchApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http;

    private HttpBenchApp(Process process, Uri root)
    {
        _process = process;
        Root = root;
        _http = new HttpClient { BaseAddress = root };
    }

    public Uri Root { get; }

    public int ProcessId => _process.Id;

    public string Url(string path) => new Uri(Root, path).ToString();

    public static async Task<HttpBenchApp> StartAsync(Action<string> log, params string[] arguments)
    {
        var assembly = Locate();
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { assembly, "--urls", $"http://127.0.0.1:{port}" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == "ready")
            {
                ready.TrySetResult();
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"bench/ProcessPool.HttpBench exited (code {process.ExitCode}) before it was ready."));
        process.EnableRaisingEvents = true;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                log($"  (http app) {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new HttpBenchApp(process, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    public async Task<int[]> WorkerPidsAsync(CancellationToken cancellationToken)
    {
        var text = await _http.GetStringAsync("workers", cancellationToken);
        return [.. Regex.Matches(text, @"\d+").Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture))];
    }

    /// <summary>The app's build: bench/ProcessPool.HttpBench/bin/{configuration}/net10.0, beside this build's configuration.</summary>
    private static string Locate()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Hosting.sln")))
        {
            root = root.Parent;
        }

        var candidates = root is null ? [] : new[] { "Release", "Debug" }.Select(c => Path.Combine(root.FullName, "bench", "ProcessPool.HttpBench", "bin", c, "net10.0", "ProcessPool.HttpBench.dll")).ToArray();
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("bench/ProcessPool.HttpBench is not built: dotnet build bench/ProcessPool.HttpBench -c Release (the bench's build builds it too).");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>What a load run measured.</summary>
internal sealed record LoadResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Failures)
{
    public static LoadResult Mean(LoadResult a, LoadResult b) =>
        new((a.RequestsPerSecond + b.RequestsPerSecond) / 2, (a.P50Ms + b.P50Ms) / 2, (a.P99Ms + b.P99Ms) / 2, a.Failures + b.Failures);

    public override string ToString() => FormattableString.Invariant($"{RequestsPerSecond:0} req/s, p50 {P50Ms:0.###} ms, p99 {P99Ms:0.###} ms, {Failures} failed");
}

/// <summary>wrk when installed (Debian: apt-get install wrk), else a load loop in this process.</summary>
internal abstract partial class LoadGenerator
{
    /// <summary>Seconds of load before each measured run, not measured.</summary>
    protected int WarmUpSeconds { get; private init; } = 3;

    public static LoadGenerator Find(Action<string> log, int warmUpSeconds)
    {
        var wrk = Workloads.FindOnPath("wrk");
        if (wrk is not null)
        {
            log($"  load: {wrk}, 2 threads");
            return new Wrk(wrk) { WarmUpSeconds = warmUpSeconds };
        }

        log("  load: wrk not found (apt-get install wrk); a SocketsHttpHandler loop in this process, which shares its CPU");
        return new Loop { WarmUpSeconds = warmUpSeconds };
    }

    /// <summary>Warms up for <see cref="WarmUpSeconds"/>, then loads <paramref name="url"/> with <paramref name="connections"/> connections for <paramref name="seconds"/>.</summary>
    public abstract Task<LoadResult> RunAsync(string url, int connections, int seconds);

    private sealed partial class Wrk(string path) : LoadGenerator
    {
        public override async Task<LoadResult> RunAsync(string url, int connections, int seconds)
        {
            await RunWrkAsync(url, connections, WarmUpSeconds);
            var output = await RunWrkAsync(url, connections, seconds);
            var rate = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var failures = NonSuccess().Match(output) is { Success: true } non ? long.Parse(non.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            foreach (Match error in SocketErrors().Matches(output))
            {
                failures += long.Parse(error.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            return new LoadResult(rate, Latency(output, "50%"), Latency(output, "99%"), failures);
        }

        private async Task<string> RunWrkAsync(string url, int connections, int seconds)
        {
            var start = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency", "--timeout", "10s", url })
            {
                start.ArgumentList.Add(argument);
            }

            using var wrk = Process.Start(start)!;
            var output = wrk.StandardOutput.ReadToEndAsync();
            var errors = wrk.StandardError.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            return await output + await errors;
        }

        /// <summary>A percentile of wrk's latency distribution, in ms (wrk prints us, ms or s).</summary>
        private static double Latency(string output, string percentile)
        {
            var match = Regex.Match(output, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
            var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        }

        [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
        private static partial Regex RequestsPerSecond();

        [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
        private static partial Regex NonSuccess();

        [GeneratedRegex(@"(?:connect|read|write|timeout) (\d+)")]
        private static partial Regex SocketErrors();
    }

    private sealed class Loop : LoadGenerator
    {
        public override async Task<LoadResult> RunAsync(string url, int connections, int seconds)
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { Timeout = TimeSpan.FromSeconds(10) };
            await RunLoopAsync(http, url, connections, TimeSpan.FromSeconds(WarmUpSeconds));
            return await RunLoopAsync(http, url, connections, TimeSpan.FromSeconds(seconds));
        }

        private static async Task<LoadResult> RunLoopAsync(HttpClient http, string url, int connections, TimeSpan duration)
        {
            var clock = Stopwatch.StartNew();
            var latencies = new List<double>[connections];
            var failures = 0L;
            await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
            {
                var mine = latencies[c] = [];
                while (clock.Elapsed < duration)
                {
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await http.GetAsync(url);
                        if (!response.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref failures);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref failures);
                    }

                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }));
            var all = latencies.SelectMany(l => l).Order().ToArray();
            return new LoadResult(all.Length / clock.Elapsed.TotalSeconds, all[(int)((all.Length - 1) * 0.5)], all[(int)((all.Length - 1) * 0.99)], failures);
        }
    }
}
