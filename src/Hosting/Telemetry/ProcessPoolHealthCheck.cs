using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ProcessPools.Telemetry;

/// <summary>
/// Healthy with every configured worker ready; Degraded below that count, or when replacements keep
/// failing to start; Unhealthy (or the registration's failure status) with no worker ready.
/// </summary>
internal sealed class ProcessPoolHealthCheck(IProcessPool pool) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = await pool.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object>
        {
            ["ready"] = status.ReadyWorkers,
            ["processes"] = status.Processes,
            ["queued"] = status.Queued,
            ["inFlight"] = status.InFlight,
            ["restarts"] = status.WorkerRestarts,
        };
        var name = $"Process pool '{Options.PoolNames.Display(pool.Name)}'"; // as the pool's logs and exceptions name it
        var result = status switch
        {
            { IsAcceptingJobs: false } => new HealthCheckResult(context.Registration.FailureStatus, $"{name} is not accepting jobs (not started, or closed).", data: data),
            { ReadyWorkers: 0 } => new HealthCheckResult(
                context.Registration.FailureStatus, $"{name} has no worker ready.{(status.StartFailure is { } failure ? $" {failure}" : string.Empty)}", data: data),
            { StartFailure: { } loop } => HealthCheckResult.Degraded($"{name}: {loop}", data: data),
            _ when status.ReadyWorkers < status.Processes => HealthCheckResult.Degraded($"{name} has {status.ReadyWorkers} of {status.Processes} workers ready.", data: data),
            _ => HealthCheckResult.Healthy(status.Processes == 1 ? $"{name} has its worker ready." : $"{name} has all {status.Processes} workers ready.", data),
        };
        return result;
    }
}
