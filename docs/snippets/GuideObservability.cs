using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ProcessPools;

var builder = WebApplication.CreateBuilder(args);
var services = builder.Services;
// snippet: guide-opentelemetry
builder.Services.AddOpenTelemetry()
    .WithTracing(t => t.AddAspNetCoreInstrumentation().AddProcessPoolInstrumentation().AddOtlpExporter())
    .WithMetrics(m => m.AddProcessPoolInstrumentation().AddOtlpExporter());

// The workers export their own spans (processpool.job.execute, under the job's span) and metrics over OTLP, each
// worker a service instance of its own, to the endpoint the app uses (OTEL_EXPORTER_OTLP_*, or set it here):
services.AddProcessPool(o => o.Processes = 2).AddWorkerTelemetry();
// end snippet

static async Task ShowAsync(IProcessPool pool, IEnumerable<string> files, ProgressBar bar)
{
    // snippet: guide-map-progress
    var map = pool.Map(Jobs.ConvertAsync, files);
    var all = map.ToListAsync();
    while (!all.IsCompleted) { Snippets.Render(map.Progress); await Task.WhenAny(all, Task.Delay(100)); }
    // end snippet

    // snippet: guide-progress-call
    var pages = await pool.ApplyAsync(Jobs.ConvertWithProgressAsync, "big.pdf", new Progress<double>(p => bar.Value = p));
    // end snippet
}

public static class Jobs
{
    public static Task<int> ConvertAsync(string path, CancellationToken ct) => Task.FromResult(path.Length);

    // snippet: guide-progress-job
    public static async Task<int> ConvertWithProgressAsync(string path, IProgress<double> progress, CancellationToken ct)
    {
        var pages = await CountPagesAsync(path, ct);
        for (var page = 1; page <= pages; page++)
        {
            await ConvertPageAsync(path, page, ct);
            progress.Report((double)page / pages);   // arrives in the caller's IProgress<double>, in order
        }

        return pages;
    }
    // end snippet

    private static Task<int> CountPagesAsync(string path, CancellationToken ct) => Task.FromResult(3);

    private static Task ConvertPageAsync(string path, int page, CancellationToken ct) => Task.CompletedTask;
}
