using OpenTelemetry.Exporter;

namespace ProcessPools;

/// <summary>
/// What a pool's worker processes export over OTLP (<c>AddWorkerTelemetry</c>). Unset values follow the application:
/// workers inherit its environment, so <c>OTEL_EXPORTER_OTLP_*</c>, <c>OTEL_SERVICE_NAME</c> and
/// <c>OTEL_RESOURCE_ATTRIBUTES</c> apply to them as to it. Set them here when the application configures its exporter
/// in code instead.
/// </summary>
public sealed class WorkerTelemetryOptions
{
    /// <summary>Gets or sets the OTLP endpoint (e.g. http://collector:4317); null to follow <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (default http://localhost:4317).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Gets or sets the OTLP protocol; null to follow <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> (default gRPC).</summary>
    public OtlpExportProtocol? Protocol { get; set; }

    /// <summary>Gets or sets OTLP headers as <c>key=value,key2=value2</c> (an API key); null to follow <c>OTEL_EXPORTER_OTLP_HEADERS</c>.</summary>
    public string? Headers { get; set; }

    /// <summary>
    /// Gets or sets the workers' service name; null to follow <c>OTEL_SERVICE_NAME</c>, else the application's name.
    /// Each worker adds its own <c>service.instance.id</c>, the pool's name and its worker id to its resource.
    /// </summary>
    public string? ServiceName { get; set; }

    /// <summary>Gets or sets whether workers export their spans (<c>processpool.job.execute</c>, and every ActivitySource in <see cref="Sources"/>).</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Gets or sets whether workers export metrics (the meters in <see cref="Meters"/>).</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>
    /// Gets or sets whether workers export their log entries themselves (with the worker's resource and the job's trace).
    /// Off by default: a worker's log entries already reach the application's logging through the pool, and from
    /// there its exporter; on, an application that exports its own logs receives them twice.
    /// </summary>
    public bool Logs { get; set; }

    /// <summary>Gets the meters workers export; the runtime's own (<c>System.Runtime</c>: GC, CPU, thread pool) to start with.</summary>
    public IList<string> Meters { get; } = ["System.Runtime"];

    /// <summary>Gets more ActivitySource names workers export, besides ProcessPool's (a job's own spans, a library's).</summary>
    public IList<string> Sources { get; } = [];

    internal void Validate()
    {
        if (Endpoint is { IsAbsoluteUri: false } or { Scheme: not ("http" or "https") })
        {
            throw new ArgumentException($"The workers' OTLP endpoint must be an absolute http or https address (got '{Endpoint}').");
        }

        foreach (var name in Meters.Concat(Sources))
        {
            if (string.IsNullOrWhiteSpace(name) || name.Contains(',', StringComparison.Ordinal) || name.Contains(';', StringComparison.Ordinal))
            {
                throw new ArgumentException($"A meter or source name for the workers is empty or holds ',' or ';' (got '{name}').");
            }
        }
    }
}
