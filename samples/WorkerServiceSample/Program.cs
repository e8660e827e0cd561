using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using WorkerServiceSample;

var builder = Host.CreateApplicationBuilder(args);
var pool = builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));

// With Telemetry:OtlpEndpoint set (an OpenTelemetry collector, or the Aspire dashboard), the service "WorkerServiceSample"
// and each of its workers send their traces and metrics there; worker log entries go through the app's logging.
if (builder.Configuration["Telemetry:OtlpEndpoint"] is { Length: > 0 } otlp)
{
    var endpoint = new Uri(otlp);
    pool.AddWorkerTelemetry(workers => workers.Endpoint = endpoint);
    builder.Services.AddOpenTelemetry()
        .ConfigureResource(resource => resource.AddService("WorkerServiceSample"))
        .WithTracing(tracing => tracing.AddProcessPoolInstrumentation().AddOtlpExporter(o => o.Endpoint = endpoint))
        .WithMetrics(metrics => metrics.AddProcessPoolInstrumentation().AddOtlpExporter(o => o.Endpoint = endpoint));
    builder.Logging.AddOpenTelemetry(logging => logging.AddOtlpExporter(o => o.Endpoint = endpoint));
}
builder.Services.AddOptions<FeedOptions>().BindConfiguration(FeedOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddHostedService<ReadingsProcessor>();

var host = builder.Build();
host.Run();
