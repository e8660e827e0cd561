using ProcessPools;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Has a pool's worker processes export their telemetry over OTLP, as the application does.</summary>
public static class ProcessPoolWorkerTelemetryExtensions
{
    /// <summary>
    /// Has every worker of this pool export its spans (<c>processpool.job.execute</c>, children of the parent's
    /// <c>processpool.job</c> span) and metrics (the runtime's, by default) over OTLP, to the endpoint, protocol and
    /// headers the application uses (<c>OTEL_EXPORTER_OTLP_*</c>, or <paramref name="configure"/>), as a resource of its
    /// own: the application's service name, a <c>service.instance.id</c> per worker, the pool and the worker id.
    /// Without this, nothing exports from the workers: their spans are lost to every receiver.
    /// </summary>
    /// <param name="builder">The pool's builder.</param>
    /// <param name="configure">Sets what differs from the application's own OTLP settings.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The endpoint is not an absolute http(s) address, or a meter or source name is malformed.</exception>
    public static IProcessPoolBuilder AddWorkerTelemetry(this IProcessPoolBuilder builder, Action<WorkerTelemetryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new WorkerTelemetryOptions();
        configure?.Invoke(options);
        options.Validate();
        builder.Services.Configure<ProcessPoolOptions>(builder.Name, pool => WorkerTelemetryVariables.WriteTo(options, pool.EnvironmentVariables));
        return builder.AddWorkerInitializer<WorkerTelemetryInitializer>();
    }
}
