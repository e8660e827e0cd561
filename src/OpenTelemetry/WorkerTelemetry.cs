using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ProcessPools;

/// <summary>
/// The variables that carry <see cref="WorkerTelemetryOptions"/> to the workers: the OpenTelemetry SDK's own
/// (<c>OTEL_*</c>, read by the exporter and the resource in the worker) and one of the pool's, naming the signals,
/// meters and sources.
/// </summary>
internal static class WorkerTelemetryVariables
{
    public const string Signals = "PROCESSPOOL_WORKER_TELEMETRY";

    public static void WriteTo(WorkerTelemetryOptions options, IDictionary<string, string> environment)
    {
        if (options.Endpoint is { } endpoint)
        {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint.ToString();
        }

        if (options.Protocol is { } protocol)
        {
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol == OtlpExportProtocol.Grpc ? "grpc" : "http/protobuf";
        }

        if (options.Headers is { Length: > 0 } headers)
        {
            environment["OTEL_EXPORTER_OTLP_HEADERS"] = headers;
        }

        if (options.ServiceName is { Length: > 0 } service)
        {
            environment["OTEL_SERVICE_NAME"] = service;
        }

        var signals = new List<string>();
        if (options.Traces)
        {
            signals.Add("traces");
        }

        if (options.Metrics)
        {
            signals.Add("metrics");
        }

        if (options.Logs)
        {
            signals.Add("logs");
        }

        environment[Signals] = $"{string.Join(',', signals)};{string.Join(',', options.Meters)};{string.Join(',', options.Sources)}";
    }

    public static (bool Traces, bool Metrics, bool Logs, string[] Meters, string[] Sources) Read(string? value)
    {
        var parts = (value ?? string.Empty).Split(';');
        string[] Part(int index) => parts.Length > index ? parts[index].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        var signals = Part(0);
        return (signals.Contains("traces"), signals.Contains("metrics"), signals.Contains("logs"), Part(1), Part(2));
    }
}

/// <summary>
/// Runs in each worker (a worker initializer): starts the OpenTelemetry SDK's providers with OTLP exporters, configured
/// from the worker's environment, and flushes and stops them when the worker's host is disposed.
/// </summary>
internal sealed class WorkerTelemetryInitializer(ILoggerFactory loggerFactory) : IWorkerInitializer, IDisposable
{
    private TracerProvider? _traces;
    private MeterProvider? _metrics;
    private ILoggerFactory? _logs;

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        var (traces, metrics, logs, meters, sources) = WorkerTelemetryVariables.Read(Environment.GetEnvironmentVariable(WorkerTelemetryVariables.Signals));
        var resource = ResourceBuilder.CreateDefault(); // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES: the pool sets the worker's
        if (traces)
        {
            _traces = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddProcessPoolInstrumentation().AddSource([.. sources]).AddOtlpExporter().Build();
        }

        if (metrics)
        {
            _metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddProcessPoolInstrumentation().AddMeter([.. meters]).AddOtlpExporter().Build();
        }

        if (logs)
        {
            _logs = LoggerFactory.Create(builder => builder.AddOpenTelemetry(o =>
            {
                o.SetResourceBuilder(resource);
                o.IncludeScopes = true;
                o.AddOtlpExporter();
            }));
            loggerFactory.AddProvider(new ForwardingProvider(_logs));
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // Disposing flushes what is buffered: the last spans of a worker that is asked to leave are not lost.
        _traces?.Dispose();
        _metrics?.Dispose();
        _logs?.Dispose();
    }

    /// <summary>Hands the worker host's log entries to the OpenTelemetry logger factory.</summary>
    private sealed class ForwardingProvider(ILoggerFactory target) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
