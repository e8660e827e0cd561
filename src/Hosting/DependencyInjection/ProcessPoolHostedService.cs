using Microsoft.Extensions.Hosting;
using ProcessPools.Dispatch;

namespace ProcessPools.DependencyInjection;

/// <summary>
/// Owns one pool's worker processes for the host's lifetime. The pool starts in <see cref="StartingAsync"/>,
/// before any hosted service's <c>StartAsync</c>, and closes in <see cref="StoppedAsync"/>, after every
/// hosted service's <c>StopAsync</c>: whatever the registration order, a <c>BackgroundService</c> can use
/// the pool from its first line to its last (hosts stop services in reverse order, so a plain
/// <see cref="IHostedService"/> added after the worker would close the pool under it). Workers start in
/// parallel and the application serves only once they are ready; on stop, queued and running jobs finish,
/// and what is left when the host's shutdown timeout fires is killed.
/// </summary>
internal sealed class ProcessPoolHostedService(PoolEngine pool) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => pool.StartAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => pool.CloseAsync(cancellationToken);
}
