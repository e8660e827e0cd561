using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ProcessPools;
using WebApiSample.Jobs;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddControllers();

// Traces, metrics and logs go to an OpenTelemetry collector over OTLP with "Telemetry:OtlpEndpoint" set (or
// "Telemetry:Exporter" Otlp: the OTEL_EXPORTER_OTLP_* settings); "Telemetry:Exporter" Console (the default) prints
// them; None turns them off.
var otlpEndpoint = builder.Configuration["Telemetry:OtlpEndpoint"];
var exporter = string.IsNullOrEmpty(otlpEndpoint) ? builder.Configuration["Telemetry:Exporter"] ?? "Console" : "Otlp";

// The default pool, for CPU-heavy and IO-bound jobs written as static methods (Jobs/ComputeJobs.cs).
var computePool = builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));

// A second, named pool for images: its workers add their own services, warm them up before the first job,
// run a DI job class, and report job failures from inside the worker.
var imagePool = builder.Services.AddProcessPool(ImagePool.Name, builder.Configuration.GetSection("ProcessPools:Images"));
imagePool
    .ConfigureWorkerHost(ImagePool.ConfigureWorker)
    .AddWorkerInitializer<WarmKernelsInitializer>()
    .AddJob<BlurJob>()
    .AddJobExceptionHandler<LogFailedImageJobs>();

// Each pool's health: Healthy with all workers ready, Degraded below that, Unhealthy with none.
builder.Services.AddHealthChecks()
    .AddProcessPoolHealthCheck()
    .AddProcessPoolHealthCheck(ImagePool.Name);

// ASP.NET Core's and the pools' telemetry, as the service "WebApiSample". Over OTLP, the workers export theirs too
// (their job spans under the request's trace, their runtime metrics), each worker a service instance of its own;
// their log entries reach the app's logging, and its exporter, through the pool.
if (exporter == "Otlp")
{
    foreach (var pool in new[] { computePool, imagePool })
    {
        pool.AddWorkerTelemetry(workers => workers.Endpoint = string.IsNullOrEmpty(otlpEndpoint) ? null : new Uri(otlpEndpoint));
    }

    builder.Logging.AddOpenTelemetry(logging =>
    {
        logging.IncludeScopes = true;
        logging.AddOtlpExporter(o => o.Endpoint = string.IsNullOrEmpty(otlpEndpoint) ? o.Endpoint : new Uri(otlpEndpoint));
    });
}

builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("WebApiSample"))
    .WithTracing(tracing =>
    {
        tracing.AddAspNetCoreInstrumentation().AddProcessPoolInstrumentation();
        _ = exporter switch
        {
            "Otlp" => tracing.AddOtlpExporter(o => o.Endpoint = string.IsNullOrEmpty(otlpEndpoint) ? o.Endpoint : new Uri(otlpEndpoint)),
            "Console" => tracing.AddConsoleExporter(),
            _ => tracing,
        };
    })
    .WithMetrics(metrics =>
    {
        metrics.AddAspNetCoreInstrumentation().AddProcessPoolInstrumentation();
        if (builder.Configuration.GetValue("Telemetry:Prometheus", true))
        {
            metrics.AddPrometheusExporter(); // scraped at /metrics (dashboards/processpool.grafana.json reads these)
        }

        _ = exporter switch
        {
            "Otlp" => metrics.AddOtlpExporter(o => o.Endpoint = string.IsNullOrEmpty(otlpEndpoint) ? o.Endpoint : new Uri(otlpEndpoint)),
            "Console" => metrics.AddConsoleExporter(),
            _ => metrics,
        };
    });

var app = builder.Build();

// Behind a reverse proxy that forwards a sub-path (e.g. PathBase=/ops): links, the dashboard included, stay under it.
if (app.Configuration["PathBase"] is { Length: > 0 } pathBase)
{
    app.UsePathBase(pathBase);
}

app.MapControllers();

// The operator's dashboard at /processpool: both pools, their workers, failures, output, and actions. With no
// policy it answers only loopback clients in Development. In production, name the policies (set
// Dashboard:ReadPolicy and Dashboard:OperatePolicy, and register them, e.g.
//   builder.Services.AddAuthorization(o => o.AddPolicy("pool-operators", p => p.RequireRole("operators")))
// with the application's authentication), or call RequireAuthorization(...) on what MapProcessPoolDashboard returns.
app.MapProcessPoolDashboard("/processpool", dashboard =>
{
    dashboard.ReadPolicy = app.Configuration["Dashboard:ReadPolicy"] is { Length: > 0 } read ? read : null;
    dashboard.OperatePolicy = app.Configuration["Dashboard:OperatePolicy"] is { Length: > 0 } operate ? operate : null;
});

if (app.Configuration.GetValue<bool>("Demo:Enabled"))
{
    // Jobs to watch on the dashboard: a slow one, one that ignores cancellation, one that fails.
    app.MapPost("/demo/slow", (IProcessPool pool, int ms, CancellationToken ct) => pool.ApplyAsync(DemoJobs.SlowAsync, ms, ct));
    app.MapPost("/demo/stubborn", (IProcessPool pool, int ms) => pool.ApplyAsync(DemoJobs.StubbornAsync, ms));
    app.MapPost("/demo/fail", async (IProcessPool pool, string message) =>
    {
        try
        {
            return Results.Ok(await pool.ApplyAsync(DemoJobs.FailAsync, message));
        }
        catch (RemoteJobException e)
        {
            return Results.Problem(e.RemoteMessage, statusCode: StatusCodes.Status500InternalServerError);
        }
    });
}

// For dashboards: both pools' workers (pid, state, jobs in flight and answered), queues and restarts.
app.MapGet("/pool/status", async (IProcessPool pool, [FromKeyedServices(ImagePool.Name)] IProcessPool images, CancellationToken ct) =>
    new Dictionary<string, ProcessPoolStatus> { ["default"] = await pool.GetStatusAsync(ct), [ImagePool.Name] = await images.GetStatusAsync(ct) });

// Prometheus scrapes the pools' metrics (and ASP.NET Core's) here.
if (app.Configuration.GetValue("Telemetry:Prometheus", true))
{
    app.MapPrometheusScrapingEndpoint();
}

// Healthy with every worker up, Degraded below the configured count or in a crash loop, Unhealthy with none.
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });

app.Run();

static Task WriteHealthAsync(HttpContext context, HealthReport report)
{
    context.Response.ContentType = "application/json";
    return context.Response.WriteAsync(JsonSerializer.Serialize(new
    {
        status = report.Status.ToString(),
        checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description, e.Value.Data }),
    }));
}
