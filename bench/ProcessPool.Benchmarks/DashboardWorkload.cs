using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ProcessPools.Benchmarks;

/// <summary>
/// What the dashboard costs a busy pool: the same ApplyAsync and Map rounds with nobody watching and with one viewer
/// connected to its live feed, alternately, in one application (Kestrel on loopback, the pool added with AddProcessPool).
/// </summary>
internal sealed partial class Workloads
{
    private async Task DashboardAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddProcessPool(o => o.Serializer = new BenchSerializer());
        await using var app = builder.Build();
        app.MapProcessPoolDashboard("/processpool");
        await app.StartAsync();
        var pool = app.Services.GetRequiredService<IProcessPool>();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var applyAlone = new List<double>();
        var applyWatched = new List<double>();
        var mapAlone = new List<double>();
        var mapWatched = new List<double>();
        for (var pair = 0; pair < (sizes.Rounds > 1 ? 4 : 1); pair++)
        {
            applyAlone.Add(await SteadyRateAsync(sizes.ConcurrentJobs, Apply));
            mapAlone.Add(await SteadyRateAsync(sizes.MapItems, Map));
            using (await ViewerAsync(http))
            {
                applyWatched.Add(await SteadyRateAsync(sizes.ConcurrentJobs, Apply));
                mapWatched.Add(await SteadyRateAsync(sizes.MapItems, Map));
            }
        }

        log($"  ApplyAsync alone {string.Join(", ", applyAlone.Select(r => $"{r:0}"))}; watched {string.Join(", ", applyWatched.Select(r => $"{r:0}"))} jobs/s");
        log($"  Map alone {string.Join(", ", mapAlone.Select(r => $"{r:0}"))}; watched {string.Join(", ", mapWatched.Select(r => $"{r:0}"))} items/s");
        Add($"dashboard: {sizes.ConcurrentJobs:N0} concurrent ApplyAsync", "one viewer / nobody watching", "x", Median(applyWatched) / Median(applyAlone), null, null, 0.97, higherIsBetter: true);
        Add($"dashboard: Map of {sizes.MapItems:N0}", "one viewer / nobody watching", "x", Median(mapWatched) / Median(mapAlone), null, null, 0.97, higherIsBetter: true);
        await app.StopAsync();

        Task Apply() => Task.WhenAll(Enumerable.Range(0, sizes.ConcurrentJobs).Select(i => pool.ApplyAsync(BenchJobs.TrivialAsync, i)));
        Task Map() => pool.Map(BenchJobs.TrivialAsync, Enumerable.Range(0, sizes.MapItems)).ToListAsync();
    }

    /// <summary>A page's live feed, read as a browser reads it, until disposed; returns once its first snapshot arrived.</summary>
    private static async Task<IDisposable> ViewerAsync(HttpClient http)
    {
        var stop = new CancellationTokenSource();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            try
            {
                using var response = await http.GetAsync("processpool/api/v1/events", HttpCompletionOption.ResponseHeadersRead, stop.Token);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    if (line.StartsWith("data:", StringComparison.Ordinal))
                    {
                        first.TrySetResult();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                first.TrySetException(exception);
            }
        });
        await first.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new Viewer(stop, reading);
    }

    private sealed class Viewer(CancellationTokenSource stop, Task reading) : IDisposable
    {
        public void Dispose()
        {
            stop.Cancel();
            reading.Wait(TimeSpan.FromSeconds(10));
            stop.Dispose();
        }
    }
}
