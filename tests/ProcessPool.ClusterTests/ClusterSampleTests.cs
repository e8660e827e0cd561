using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace ProcessPools.ClusterTests;

/// <summary>
/// samples/ClusterSample as it is deployed: two silos and a web front end, each its own process, on a real clustering
/// provider (Redis when <c>redis-server</c> is installed, as CI does; otherwise Orleans' localhost clustering). One silo
/// is killed with SIGKILL in the middle of a map, and every item must still be answered, once and right.
/// </summary>
public sealed class ClusterSampleTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_silo_killed_with_sigkill_mid_map_loses_no_item()
    {
        var processes = new List<Process>();
        try
        {
            int silo0 = FreePort(), silo1 = FreePort(), gateway0 = FreePort(), gateway1 = FreePort(), http = FreePort();
            string[] clustering;
            if (FindOnPath("redis-server") is { } redisServer)
            {
                var redisPort = FreePort();
                processes.Add(Start(redisServer, ["--port", redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]));
                clustering = [$"--Cluster:Redis=127.0.0.1:{redisPort}"];
            }
            else
            {
                clustering = [$"--Cluster:PrimarySiloPort={silo0}", $"--Cluster:Gateways={gateway0},{gateway1}"];
            }

            var sample = SampleDll();
            processes.Add(Start("dotnet", [sample, "silo", "0", $"--Cluster:SiloPort={silo0}", $"--Cluster:GatewayPort={gateway0}", .. clustering]));
            await Task.Delay(2000, Token); // the first silo of localhost clustering is the primary: it comes up first
            var doomed = Start("dotnet", [sample, "silo", "1", $"--Cluster:SiloPort={silo1}", $"--Cluster:GatewayPort={gateway1}", .. clustering]);
            processes.Add(doomed);
            var frontEnd = new System.Collections.Concurrent.ConcurrentQueue<string>();
            processes.Add(Start("dotnet", [sample, "frontend", $"--urls=http://127.0.0.1:{http}", "--environment=Development", .. clustering], frontEnd));

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromMinutes(3) };
            var silos = await WaitForSilosAsync(client, 2, processes);
            var doomedSilo = silos.Single(s => s.Silo.Contains($":{silo1}:", StringComparison.Ordinal));

            // The front end's dashboard shows the cluster pool: both silos, each with its workers.
            Assert.Contains("<title>", await client.GetStringAsync("/processpool/", Token));
            var pool = await DashboardPoolAsync(client);
            Assert.Equal("cluster", pool.GetProperty("kind").GetString());
            Assert.Equal(silos.Select(s => s.Silo).Order(), pool.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()!).Order());
            Assert.All(pool.GetProperty("nodes").EnumerateArray(), n => Assert.Equal("Active", n.GetProperty("state").GetString()));
            foreach (var (silo, pids) in silos)
            {
                var shown = pool.GetProperty("workers").EnumerateArray().Where(w => w.GetProperty("node").GetString() == silo).Select(w => w.GetProperty("processId").GetInt32());
                Assert.Subset(shown.ToHashSet(), pids.ToHashSet());
            }

            // And the page draws them, in a real browser: a row per silo, each silo's workers under it.
            ShowsBothSilosInTheBrowser($"http://127.0.0.1:{http}/processpool/", silos);

            var map = client.GetFromJsonAsync<JsonElement>("/map?count=3000&ms=20", Token);
            await WaitUntilBusyAsync(client, doomedSilo.Silo);
            doomed.Kill(); // SIGKILL: no shutdown, no answer from its grain
            var result = await map;

            Assert.Equal(3000, result.GetProperty("answered").GetInt32());
            Assert.Equal(0, result.GetProperty("wrong").GetInt32());
            var bySilo = result.GetProperty("bySilo");
            Assert.True(bySilo.TryGetProperty("a silo no longer in the cluster", out var ranOnKilled) && ranOnKilled.GetInt32() > 0, $"the killed silo answered none of the map: {result}");

            // It had items in flight when it died: the front end answered them by sending them to the other silo.
            var left = Assert.Single(frontEnd, l => l.Contains($"Silo {doomedSilo.Silo} left the cluster with", StringComparison.Ordinal));
            Assert.DoesNotContain("with 0 calls", left);

            // The dashboard no longer lists the killed silo.
            var survivors = (await DashboardPoolAsync(client)).GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()!).ToArray();
            Assert.Equal([silos.Single(s => s != doomedSilo).Silo], survivors);

            // The killed silo's workers see their parent gone and exit (a zombie until init reaps it counts as exited).
            foreach (var pid in doomedSilo.Workers)
            {
                await WaitForExitAsync(pid);
            }
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync(CancellationToken.None);
                process.Dispose();
            }
        }
    }

    private static async Task<List<(string Silo, int[] Workers)>> WaitForSilosAsync(HttpClient client, int count, List<Process> processes)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.DoesNotContain(processes, p => p.HasExited);
            try
            {
                var status = await client.GetFromJsonAsync<JsonElement>("/status", Token);
                var silos = status.GetProperty("silos").EnumerateArray()
                    .Select(s => (s.GetProperty("silo").GetString()!, s.GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("pid").GetInt32()).ToArray()))
                    .ToList();
                if (silos.Count >= count && silos.All(s => s.Item2.Length > 0))
                {
                    return silos;
                }
            }
            catch (HttpRequestException)
            {
                // the front end is not listening yet
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), "the front end never saw both silos");
            await Task.Delay(250, Token); // readiness of separate processes: nothing to wait on but their answers
        }
    }

    private static void ShowsBothSilosInTheBrowser(string page, List<(string Silo, int[] Workers)> silos)
    {
        using var browser = ProcessPools.IntegrationTests.Browser.Start();
        var driver = browser.Driver;
        driver.Navigate().GoToUrl(page);
        var wait = new OpenQA.Selenium.Support.UI.WebDriverWait(driver, TimeSpan.FromSeconds(60)) { PollingInterval = TimeSpan.FromMilliseconds(100) };
        wait.IgnoreExceptionTypes(typeof(OpenQA.Selenium.StaleElementReferenceException));
        wait.Until(d => d.FindElements(OpenQA.Selenium.By.CssSelector("tr.node")).Count == 2);
        Assert.Contains("cluster · 2 silos", driver.FindElement(OpenQA.Selenium.By.CssSelector("[data-pool='default'] .pool-head")).Text, StringComparison.Ordinal);
        foreach (var (silo, pids) in silos)
        {
            wait.Until(d => d.FindElements(OpenQA.Selenium.By.CssSelector($"tr.node[data-node='{silo}']")).Count == 1);
            Assert.Contains($"Silo {silo}", driver.FindElement(OpenQA.Selenium.By.CssSelector($"tr.node[data-node='{silo}']")).Text, StringComparison.Ordinal);
            var rows = driver.FindElements(OpenQA.Selenium.By.CssSelector($"tr[data-worker-id][data-node='{silo}']"));
            Assert.Subset(rows.Select(r => r.GetAttribute("data-pid") ?? "").ToHashSet(), pids.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet()); // every worker /status listed is drawn under its silo
        }
    }

    private static async Task<JsonElement> DashboardPoolAsync(HttpClient client) =>
        Assert.Single((await client.GetFromJsonAsync<JsonElement>("/processpool/api/v1/pools", Token)).GetProperty("pools").EnumerateArray());

    private static async Task WaitUntilBusyAsync(HttpClient client, string silo)
    {
        for (var attempt = 0; attempt < 400; attempt++)
        {
            var status = await client.GetFromJsonAsync<JsonElement>("/status", Token);
            var busy = status.GetProperty("silos").EnumerateArray()
                .Any(s => s.GetProperty("silo").GetString() == silo
                    && s.GetProperty("workers").EnumerateArray().Any(w => w.GetProperty("inFlight").GetInt32() > 0)
                    && s.GetProperty("workers").EnumerateArray().Sum(w => w.GetProperty("completed").GetInt32()) >= 20);
            if (busy)
            {
                return;
            }

            await Task.Delay(50, Token);
        }

        Assert.Fail($"silo {silo} never ran an item of the map");
    }

    /// <summary>Waits for a process that is not our child to exit: there is no exit event for those, so it is checked every 50 ms.</summary>
    private static async Task WaitForExitAsync(int pid)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if (HasExited(pid))
            {
                return;
            }

            await Task.Delay(50, Token);
        }

        Assert.Fail($"worker {pid} of the killed silo is still running");
    }

    /// <summary>Whether a process has exited, on any OS; on Linux a zombie (state Z, exited, not yet reaped by init) counts as exited.</summary>
    private static bool HasExited(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            var stat = $"/proc/{pid}/stat";
            try
            {
                return File.ReadAllText(stat).Split(") ")[1].StartsWith('Z');
            }
            catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                return true;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }

    private static Process Start(string fileName, string[] arguments, System.Collections.Concurrent.ConcurrentQueue<string>? lines = null)
    {
        var start = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = SampleDirectory() };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var output = TestContext.Current.TestOutputHelper;
        process.OutputDataReceived += (_, e) =>
        {
            Write(output, process.Id, e.Data);
            if (e.Data is not null)
            {
                lines?.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => Write(output, process.Id, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Write(ITestOutputHelper? output, int pid, string? line)
    {
        if (line is not null)
        {
            try
            {
                output?.WriteLine($"[{pid}] {line}");
            }
            catch (InvalidOperationException)
            {
                // the test ended; late output is dropped
            }
        }
    }

    private static string SampleDirectory()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Hosting.sln")))
        {
            root = root.Parent;
        }

        return Path.Combine(root?.FullName ?? throw new InvalidOperationException("Hosting.sln not found above the test output."), "samples", "ClusterSample");
    }

    private static string SampleDll()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var dll = Path.Combine(SampleDirectory(), "bin", output.Parent!.Name, output.Name, "ClusterSample.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project's build builds it.");
        return dll;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
