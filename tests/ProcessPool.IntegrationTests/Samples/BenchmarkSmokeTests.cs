using System.Text.Json;

namespace ProcessPools.IntegrationTests;

/// <summary>The benchmark harness keeps working: run with tiny sizes, it measures every workload and writes its three reports. No timing is asserted.</summary>
public sealed class BenchmarkSmokeTests
{
    [Fact]
    public async Task The_harness_runs_every_workload_with_tiny_sizes_and_writes_its_reports()
    {
        var output = Directory.CreateTempSubdirectory("processpool-bench-");
        try
        {
            await using var bench = SampleProcess.StartIn("bench", "ProcessPool.Benchmarks", "--quick", "--out", output.FullName);

            var exitCode = await bench.WaitForExitAsync(TimeSpan.FromMinutes(3));

            Assert.True(exitCode == 0, bench.Output);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output.FullName, "results.json")));
            var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
            var workloads = rows.Select(r => r.GetProperty("Workload").GetString()!).ToArray();
            foreach (var expected in new[] { "cold start", "round trip", "concurrent ApplyAsync", "Map of", "IO-bound", "CPU-bound", "recycling", "idle", "worker killed mid-job", "parent killed", "cluster round trip", "over 2 silos", "bare Orleans grain call", "dashboard:", "HTTP, trivial job", "HTTP under a kill storm", "HTTP, /health beside" })
            {
                Assert.Contains(workloads, w => w.Contains(expected, StringComparison.Ordinal));
            }

            // Python's anchors run where python3 is installed (it is on the CI machine and here), each pool's figures rows of their own.
            var python = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "python3")));
            foreach (var pool in python ? new[] { "multiprocessing.Pool: ", "ProcessPoolExecutor: " } : [])
            {
                Assert.Contains(workloads, w => w.StartsWith(pool + "Map of", StringComparison.Ordinal));
                Assert.Contains(workloads, w => w.StartsWith(pool + "round trip", StringComparison.Ordinal));
            }

            Assert.All(rows, r => Assert.True(r.GetProperty("Ours").GetDouble() is >= 0 and < double.PositiveInfinity, r.ToString())); // idle CPU may round to 0
            Assert.True(rows.Single(r => r.GetProperty("Workload").GetString() == "round trip" && r.GetProperty("Metric").GetString() == "p50").GetProperty("Ours").GetDouble() > 0);
            Assert.True(rows.Single(r => r.GetProperty("Workload").GetString()!.StartsWith("cluster round trip", StringComparison.Ordinal) && r.GetProperty("Metric").GetString() == "p50").GetProperty("Ours").GetDouble() > 0);
            Assert.Contains("| round trip | p50 |", await File.ReadAllTextAsync(Path.Combine(output.FullName, "results.md")));
            Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(output.FullName, "results.svg")));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
