using Microsoft.Extensions.Hosting;
using ProcessPools.Orleans.FrontEnd;

namespace ProcessPools.Orleans.DependencyInjection;

/// <summary>
/// Runs a cluster pool for the host's lifetime, as a local pool's hosted service does: it starts in <see cref="StartingAsync"/>,
/// before any hosted service's <c>StartAsync</c> (the Orleans client's or silo's among them: calls made before the cluster
/// is reachable wait for a silo, up to <see cref="ClusterProcessPoolOptions.SiloWaitTimeout"/>), and closes in
/// <see cref="StoppedAsync"/>, after every hosted service's <c>StopAsync</c>: whatever the registration order, a
/// <c>BackgroundService</c> can use the pool from its first line to its last.
/// </summary>
internal sealed class ClusterPoolHostedService(ClusterProcessPool pool) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        pool.Start();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => pool.CloseAsync(cancellationToken);
}
