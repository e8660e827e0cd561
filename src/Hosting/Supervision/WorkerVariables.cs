using ProcessPools.Protocol;

namespace ProcessPools.Supervision;

/// <summary>The environment variables a worker starts with, beyond the bootstrap ones its launcher sets.</summary>
internal static class WorkerVariables
{
    /// <summary>
    /// The worker's environment: the parent's, the pool's <see cref="ProcessPoolOptions.EnvironmentVariables"/>, and
    /// the OpenTelemetry resource of the application (a worker process would otherwise report itself as
    /// <c>unknown_service:dotnet</c>): <c>OTEL_SERVICE_NAME</c> unless set, and the pool, the worker and a service
    /// instance id per worker added to <c>OTEL_RESOURCE_ATTRIBUTES</c>, which the OpenTelemetry SDK reads by default.
    /// </summary>
    public static Dictionary<string, string> For(SupervisorContext context, int workerId, WorkerSetup setup)
    {
        const string ServiceName = "OTEL_SERVICE_NAME";
        const string ResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES";
        var environment = new Dictionary<string, string>(context.Options.EnvironmentVariables, StringComparer.Ordinal);
        if (!environment.ContainsKey(ServiceName) && Environment.GetEnvironmentVariable(ServiceName) is null && setup.ApplicationName is { Length: > 0 } application)
        {
            environment[ServiceName] = application;
        }

        var attributes = FormattableString.Invariant(
            $"service.instance.id={Environment.MachineName}-{Environment.ProcessId}-{context.PoolName}-worker-{workerId},{ProcessPoolDiagnostics.Tags.Pool}={context.PoolName},{ProcessPoolDiagnostics.Tags.WorkerId}={workerId}");
        var inherited = environment.GetValueOrDefault(ResourceAttributes) ?? Environment.GetEnvironmentVariable(ResourceAttributes);
        environment[ResourceAttributes] = string.IsNullOrEmpty(inherited) ? attributes : $"{inherited},{attributes}";
        if (context.Options.WaitForDebugger is { } wait)
        {
            environment[WorkerEnvironment.WaitForDebugger] = wait.TotalSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        }

        return environment;
    }
}
