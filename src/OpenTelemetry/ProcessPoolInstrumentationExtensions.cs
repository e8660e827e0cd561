using ProcessPools;

namespace OpenTelemetry.Trace
{
    /// <summary>ProcessPool's spans in an OpenTelemetry tracer.</summary>
    public static class ProcessPoolTracerProviderBuilderExtensions
    {
        /// <summary>
        /// Traces ProcessPool jobs: the parent's <c>processpool.job</c> spans and, in a worker whose host
        /// calls it too (<c>ConfigureWorkerHost</c>), the workers' <c>processpool.job.execute</c> spans.
        /// </summary>
        public static TracerProviderBuilder AddProcessPoolInstrumentation(this TracerProviderBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);
            return builder.AddSource(ProcessPoolDiagnostics.ActivitySourceName);
        }
    }
}

namespace OpenTelemetry.Metrics
{
    /// <summary>ProcessPool's instruments in an OpenTelemetry meter provider.</summary>
    public static class ProcessPoolMeterProviderBuilderExtensions
    {
        /// <summary>Collects ProcessPool's metrics (names in <see cref="ProcessPoolDiagnostics.Instruments"/>).</summary>
        public static MeterProviderBuilder AddProcessPoolInstrumentation(this MeterProviderBuilder builder)
        {
            ArgumentNullException.ThrowIfNull(builder);
            return builder.AddMeter(ProcessPoolDiagnostics.MeterName);
        }
    }
}
