using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using ProcessPools;
using ProcessPools.Orleans;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Runs process pools over a Microsoft Orleans cluster: the execution grain on silos, a cluster-backed <see cref="IProcessPool"/> on front ends.</summary>
public static class ProcessPoolOrleansExtensions
{
    /// <summary>
    /// Adds the process pool execution grain to this silo: the cluster's front ends send it jobs, which it runs on this
    /// silo's own pools (registered as usual with <c>services.AddProcessPool(...)</c>). Also turns on Orleans' trace
    /// propagation, so a job's trace runs from the caller through the grain into the worker process.
    /// </summary>
    public static ISiloBuilder AddProcessPoolExecution(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(ExecutionMarker)))
        {
            return builder;
        }

        builder.Services.AddSingleton<ExecutionMarker>();
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(ProcessPoolGrain).Assembly));
        builder.Services.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        builder.AddActivityPropagation();
        return builder;
    }

    /// <summary>Adds the default cluster pool: inject it as <see cref="IProcessPool"/> (it takes the place of a local default pool).</summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, Action<ClusterProcessPoolOptions>? configure = null) =>
        services.AddClusterProcessPool(Options.Options.DefaultName, configure);

    /// <summary>Adds the default cluster pool bound to a configuration section (by convention <c>"ClusterProcessPool"</c>).</summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, IConfiguration section) =>
        services.AddClusterProcessPool(Options.Options.DefaultName, section);

    /// <summary>Adds a named cluster pool bound to a configuration section; inject it with <c>[FromKeyedServices(name)] IProcessPool</c>.</summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddClusterProcessPool(name, options => section.Bind(options));
    }

    /// <summary>
    /// Adds a named cluster pool (the empty name for the default): an <see cref="IProcessPool"/> whose jobs run on the worker
    /// processes of the cluster's silos, injected with <c>[FromKeyedServices(name)] IProcessPool</c>. The application is an
    /// Orleans client (<c>UseOrleansClient</c>) or a silo (<c>UseOrleans</c>); give a local pool of the same application
    /// another name.
    /// </summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, string name, Action<ClusterProcessPoolOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        if (configure is not null)
        {
            services.Configure(name, configure);
        }

        if (services.Any(d => d.ImplementationInstance is ClusterPoolRegistration registered && registered.Name == name))
        {
            return services;
        }

        services.AddSingleton(new ClusterPoolRegistration(name));
        services.AddSerializer(serializer => serializer.AddAssembly(typeof(ProcessPoolGrain).Assembly));
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        // A client learns of silos that join or leave from the cluster manifest, which it refreshes at this interval
        // (a silo learns at once, from membership): a lost silo's jobs are answered within about this long.
        services.PostConfigure<TypeManagementOptions>(static options =>
        {
            if (options.TypeMapRefreshInterval > TimeSpan.FromSeconds(1))
            {
                options.TypeMapRefreshInterval = TimeSpan.FromSeconds(1);
            }
        });

        services.AddKeyedSingleton(name, static (provider, key) =>
        {
            var poolName = (string)key!;
            return new ClusterProcessPool(
                poolName,
                provider.GetRequiredService<IOptionsMonitor<ClusterProcessPoolOptions>>().Get(poolName),
                provider.GetRequiredService<IClusterManifestProvider>(),
                provider.GetRequiredService<IGrainFactory>(),
                provider.GetRequiredService<ILoggerFactory>(),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetService<IMeterFactory>());
        });
        services.AddKeyedSingleton<IProcessPool>(name, static (provider, key) => provider.GetRequiredKeyedService<ClusterProcessPool>(key));
        if (name.Length == 0)
        {
            services.RemoveAll<IProcessPool>();
            services.AddSingleton<IProcessPool>(static provider => provider.GetRequiredKeyedService<ClusterProcessPool>(string.Empty));
        }

        services.AddSingleton<IHostedService>(provider => new ClusterPoolHostedService(provider.GetRequiredKeyedService<ClusterProcessPool>(name)));
        return services;
    }

    /// <summary>
    /// Asks every silo of a cluster pool for its workers and returns the pool's status: each worker with its silo
    /// (<see cref="WorkerStatus.Node"/>). <see cref="IProcessPool.GetStatus"/> returns the last status known without asking.
    /// </summary>
    /// <exception cref="ArgumentException">The pool is not a cluster pool.</exception>
    public static Task<ProcessPoolStatus> GetClusterStatusAsync(this IProcessPool pool, CancellationToken cancellationToken = default) =>
        pool is ClusterProcessPool cluster
            ? cluster.RefreshStatusAsync(cancellationToken)
            : throw new ArgumentException("The pool is not a cluster pool (AddClusterProcessPool).", nameof(pool));
}

/// <summary>Marks a silo that called <see cref="ProcessPoolOrleansExtensions.AddProcessPoolExecution"/>.</summary>
internal sealed class ExecutionMarker;

/// <summary>Marks a cluster pool's registration, so that a second call for the same name adds nothing twice.</summary>
internal sealed record ClusterPoolRegistration(string Name);

/// <summary>Starts a cluster pool with the host (it follows the cluster's silos from then on) and closes it with the host.</summary>
internal sealed class ClusterPoolHostedService(ClusterProcessPool pool) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        pool.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => pool.CloseAsync(cancellationToken);
}
