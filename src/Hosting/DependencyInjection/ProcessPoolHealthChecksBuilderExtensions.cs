using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProcessPools;
using ProcessPools.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Health checks of process pools: <c>services.AddHealthChecks().AddProcessPoolHealthCheck()</c>.</summary>
public static class ProcessPoolHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check for a pool: Healthy with all workers ready, Degraded below the configured count or
    /// when replacements keep failing to start, <paramref name="failureStatus"/> (Unhealthy by default) with
    /// none ready or when the pool is closed.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="poolName">The pool, as named in <c>AddProcessPool</c>; <see langword="null"/> or empty for the default pool.</param>
    /// <param name="name">The check's name; <c>processpool</c> or <c>processpool-{pool name}</c> by default.</param>
    /// <param name="failureStatus">The status with no worker ready; Unhealthy when <see langword="null"/>.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>ready</c>).</param>
    /// <exception cref="InvalidOperationException">At the check's first run: no pool of that name was added.</exception>
    public static IHealthChecksBuilder AddProcessPoolHealthCheck(
        this IHealthChecksBuilder builder, string? poolName = null, string? name = null, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var pool = poolName ?? string.Empty;
        return builder.Add(new HealthCheckRegistration(
            name ?? (pool.Length == 0 ? "processpool" : $"processpool-{pool}"),
            provider => new ProcessPoolHealthCheck(provider.GetRequiredKeyedService<IProcessPool>(pool)),
            failureStatus,
            tags));
    }
}
