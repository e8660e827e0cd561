using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ProcessPools.IntegrationTests;

/// <summary>The samples, run as real applications: real Kestrel on loopback, real worker processes, real signals.</summary>
public sealed class SampleTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WebApiSample_serves_pool_work_over_http_and_stops_cleanly()
    {
        await using var app = SampleProcess.Start("WebApiSample", "--urls", "http://127.0.0.1:0");
        var listening = await app.WaitForLineAsync(@"Now listening on: (http://127\.0\.0\.1:\d+)", Patience);
        using var http = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value), Timeout = Patience };
        var workers = app.WorkerProcessIds();
        Assert.Equal(3, workers.Count); // 2 in the default pool, 1 in "images" (appsettings.json)

        var hash = await http.GetFromJsonAsync<JsonElement>("compute/hash?text=abc&rounds=1");
        var primes = await http.GetFromJsonAsync<JsonElement>("compute/primes?limit=1000000");
        var batch = await http.PostAsJsonAsync("compute/primes/batch", new[] { 10, 100, 1000, 10000 });
        var fanOut = await http.GetFromJsonAsync<JsonElement>("compute/fanout?count=32&delayMs=50");
        var blur = await http.PostAsJsonAsync("images/blur", new { width = 64, height = 48, radius = 0, seed = 5 });
        var blurred = await http.PostAsJsonAsync("images/blur", new { width = 64, height = 48, radius = 2, seed = 5 });
        var invalid = await http.PostAsJsonAsync("images/blur", new { width = 0, height = 48, radius = 0, seed = 5 });

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hash.GetProperty("sha256").GetString());
        Assert.Equal(78498, primes.GetProperty("primes").GetInt32());
        batch.EnsureSuccessStatusCode();
        var counts = (await batch.Content.ReadFromJsonAsync<JsonElement[]>())!;
        Assert.Equal([4, 25, 168, 1229], counts.Select(c => c.GetProperty("primes").GetInt32()));
        Assert.Equal(32, fanOut.GetProperty("count").GetInt32());
        var defaultPoolPids = new[] { hash, primes }.Concat(counts).Select(r => r.GetProperty("workerProcessId").GetInt32())
            .Concat(fanOut.GetProperty("workerProcessIds").EnumerateArray().Select(p => p.GetInt32())).ToHashSet();
        Assert.Subset(workers.ToHashSet(), defaultPoolPids);

        blur.EnsureSuccessStatusCode();
        var image = await blur.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(image.GetProperty("sourceChecksum").GetInt64(), image.GetProperty("checksum").GetInt64()); // radius 0: unchanged
        var imageWorker = image.GetProperty("workerProcessId").GetInt32();
        Assert.Contains(imageWorker, workers);
        Assert.DoesNotContain(imageWorker, defaultPoolPids); // the named pool has its own worker
        blurred.EnsureSuccessStatusCode();
        var smoothed = await blurred.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(image.GetProperty("sourceChecksum").GetInt64(), smoothed.GetProperty("sourceChecksum").GetInt64());
        Assert.NotEqual(smoothed.GetProperty("sourceChecksum").GetInt64(), smoothed.GetProperty("checksum").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("Width", await invalid.Content.ReadAsStringAsync());

        var status = await http.GetFromJsonAsync<JsonElement>("pool/status");
        var health = await http.GetAsync("health");
        var statusPids = new[] { "default", "images" }.SelectMany(pool => status.GetProperty(pool).GetProperty("workers").EnumerateArray())
            .Select(w => (w.GetProperty("processId").GetInt32(), w.GetProperty("state").GetString())).ToArray();
        Assert.Equal(workers.Order(), statusPids.Select(w => w.Item1).Order());
        Assert.All(statusPids, w => Assert.Equal("Ready", w.Item2));
        Assert.Equal(2, status.GetProperty("images").GetProperty("workers")[0].GetProperty("completed").GetInt64()); // the two valid blurs ran there
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var report = await health.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal(["processpool", "processpool-images"], report.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());

        Assert.Contains("processpool.job WebApiSample.Jobs.ComputeJobs.HashAsync", app.Output); // the console exporter's spans
        if (OperatingSystem.IsWindows())
        {
            // No signal to ask it to stop: ended outright, its workers go with it (their channel ends, their Job Object closes).
            System.Diagnostics.Process.GetProcessById(app.Id).Kill();
            Assert.All(await Task.WhenAll(workers.Select(pid => SampleProcess.WaitForExitAsync(pid, Patience))), Assert.True);
            return;
        }

        await app.TerminateAsync();
        Assert.Equal(0, await app.WaitForExitAsync(Patience));
        Assert.All(workers, pid => Assert.True(SampleProcess.HasExited(pid), $"worker {pid} outlived the app"));
        Assert.DoesNotContain("running jobs were lost", app.Output); // SIGTERM drained the workers, none died
    }

    [Theory]
    [InlineData("Auto", "ProcessPool.Worker.dll")] // a framework-dependent build: the worker assembly
    [InlineData("WorkerAssembly", "ProcessPool.Worker.dll")]
    [InlineData("ApplicationEntryPoint", "ConsoleSample.dll")]
    public async Task ConsoleSample_runs_in_each_launch_mode(string mode, string workerProgram)
    {
        await using var app = SampleProcess.Start("ConsoleSample", "8", $"--launch-mode={mode}");

        var exitCode = await app.WaitForExitAsync(Patience);

        Assert.True(exitCode == 0, app.Output);
        Assert.Contains($"launch mode {mode}: workers run {workerProgram}.", app.Output);
        Assert.Contains("starmap: 3, 7, 11", app.Output);
        Assert.Contains("exception: System.IO.FileNotFoundException: no such file", app.Output);
    }

    [Fact]
    public async Task An_application_relaunched_as_its_worker_without_the_hook_fails_start_with_the_fix_instead_of_spawning_pools()
    {
        // WorkerServiceSample's Main has no WorkerEntryPoint hook: each worker would run the app and start a pool of its own.
        await using var app = SampleProcess.Start("WorkerServiceSample", "--ProcessPool:LaunchMode=ApplicationEntryPoint", "--ProcessPool:Processes=1");

        var exitCode = await app.WaitForExitAsync(Patience);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("is this application relaunched as its worker (LaunchMode ApplicationEntryPoint), and its Main did not hand over to the worker. " +
            "Make this the first statement of Main: if (ProcessPools.Worker.WorkerEntryPoint.IsWorkerProcess) return await ProcessPools.Worker.WorkerEntryPoint.RunAsync();", app.Output);
        Assert.DoesNotContain("at ProcessPools.Supervision.WorkerLauncher", app.Output); // regression: the worker crashed with a stack trace (exit code 134)
    }

    [Fact]
    public async Task WorkerServiceSample_processes_its_stream_in_order_and_stops_by_itself()
    {
        await using var app = SampleProcess.Start("WorkerServiceSample", "--Feed:Count=300");

        var exitCode = await app.WaitForExitAsync(Patience);

        Assert.Equal(0, exitCode);
        Assert.Contains("Processed 300 readings in order: 4 anomalies, 2 worker processes", app.Output); // readings 0, 97, 194, 291
    }

    [Fact]
    public async Task When_the_parent_is_killed_with_SIGKILL_its_workers_exit_on_the_channels_end()
    {
        // The workers' own watchdog (parent check, parent silence) is set to minutes: exiting within the patience
        // window shows they left because the channel ended. The latency is printed, not asserted: the benchmark's
        // crash workload measures it.
        await using var app = SampleProcess.Start(
            "WorkerServiceSample", "--Feed:Count=0", "--Feed:IntervalMilliseconds=1",
            "--ProcessPool:HeartbeatInterval=00:05:00", "--ProcessPool:HeartbeatTimeout=00:20:00");
        await app.WaitForLineAsync("Processed 500 readings so far", Patience);
        var workers = app.WorkerProcessIds();
        Assert.Equal(2, workers.Count);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        System.Diagnostics.Process.GetProcessById(app.Id).Kill(); // SIGKILL (TerminateProcess on Windows): no handler runs in the parent

        var exited = await Task.WhenAll(workers.Select(pid => SampleProcess.WaitForExitAsync(pid, Patience)));
        output.WriteLine($"both workers had exited {clock.Elapsed.TotalMilliseconds:0.#} ms after the kill");
        Assert.All(exited, Assert.True);
    }

    [UnixFact]
    public async Task WorkerServiceSample_with_an_endless_stream_stops_cleanly_on_SIGTERM()
    {
        await using var app = SampleProcess.Start("WorkerServiceSample", "--Feed:Count=0", "--Feed:IntervalMilliseconds=1");
        await app.WaitForLineAsync("Processed 500 readings so far", Patience);
        var workers = app.WorkerProcessIds();

        await app.TerminateAsync();

        Assert.Equal(0, await app.WaitForExitAsync(Patience));
        Assert.Equal(2, workers.Count);
        Assert.All(workers, pid => Assert.True(SampleProcess.HasExited(pid), $"worker {pid} outlived the app"));
        Assert.Matches(@"Stopping after \d+ readings", app.Output);
    }
}
