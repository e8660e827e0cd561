using Microsoft.Extensions.Hosting;
using ProcessPools.Dispatch;

namespace ProcessPools.DependencyInjection;

/// <summary>
/// Owns one pool's worker processes for the host's lifetime: starts them all (in parallel) during host
/// start, so the application serves only once they are ready; closes them gracefully on host stop, and
/// kills what is left when the host's shutdown timeout fires.
/// </summary>
internal sealed class ProcessPoolHostedService(PoolEngine pool) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => pool.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => pool.CloseAsync(cancellationToken);
}
