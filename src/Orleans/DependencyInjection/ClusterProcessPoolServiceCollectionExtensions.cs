using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using ProcessPools;
using ProcessPools.Operations;
using ProcessPools.Options;
using ProcessPools.Orleans;
using ProcessPools.Orleans.FrontEnd;
using ProcessPools.Orleans.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cluster pools: an <see cref="IProcessPool"/> whose jobs run on the worker processes of an Orleans cluster's silos.</summary>
public static class ClusterProcessPoolServiceCollectionExtensions
{
    /// <summary>Adds the default cluster pool: inject it as <see cref="IProcessPool"/> (it takes the place of a local default pool).</summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, Action<ClusterProcessPoolOptions>? configure = null) =>
        services.AddClusterProcessPool(Options.Options.DefaultName, configure);

    /// <summary>
    /// Adds the default cluster pool bound to a configuration section (by convention <c>"ClusterProcessPool"</c>). A key
    /// that is no setting, or a value out of range, fails the host's start with a message naming the key's full path.
    /// </summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, IConfiguration section) =>
        services.AddClusterProcessPool(Options.Options.DefaultName, section);

    /// <summary>Adds a named cluster pool bound to a configuration section; inject it with <c>[FromKeyedServices(name)] IProcessPool</c>.</summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        AddCore(services, name);
        services.AddSingleton<IConfigureOptions<ClusterProcessPoolOptions>>(new OptionsSectionBinder<ClusterProcessPoolOptions>(
            name,
            section,
            ClusterProcessPoolOptionsValidation.Subject(name),
            static (section, options) => section.Bind(options), // bound by the configuration binding generator, not reflection
            [nameof(ClusterProcessPoolOptions.Serializer)],
            "AddClusterProcessPool(..., options => options.{0} = ...)"));
        return services;
    }

    /// <summary>
    /// Adds a named cluster pool (the empty name for the default): an <see cref="IProcessPool"/> whose jobs run on the worker
    /// processes of the cluster's silos, injected with <c>[FromKeyedServices(name)] IProcessPool</c>. The application is an
    /// Orleans client (<c>UseOrleansClient</c>) or a silo (<c>UseOrleans</c>); give a local pool of the same application
    /// another name. Its options are validated when the host starts.
    /// </summary>
    public static IServiceCollection AddClusterProcessPool(this IServiceCollection services, string name, Action<ClusterProcessPoolOptions>? configure)
    {
        AddCore(services, name);
        if (configure is not null)
        {
            services.Configure(name, configure);
        }

        return services;
    }

    private static void AddCore(IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        if (services.Any(d => d.ImplementationInstance is ClusterPoolRegistration registered && registered.Name == name))
        {
            return;
        }

        services.AddSingleton(new ClusterPoolRegistration(name));
        services.AddOptions<ClusterProcessPoolOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterProcessPoolOptions>, ClusterProcessPoolOptionsValidation>());
        services.AddSerializer(serializer => serializer.AddAssembly(typeof(ClusterProcessPool).Assembly));
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

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
        services.AddKeyedSingleton<IProcessPoolOperator>(name, static (provider, key) => provider.GetRequiredKeyedService<ClusterProcessPool>(key).Operator);
        services.AddSingleton<IProcessPoolOperator>(provider => provider.GetRequiredKeyedService<ClusterProcessPool>(name).Operator);
        if (name.Length == 0)
        {
            services.RemoveAll<IProcessPool>();
            services.AddSingleton<IProcessPool>(static provider => provider.GetRequiredKeyedService<ClusterProcessPool>(string.Empty));
        }

        services.AddSingleton<IHostedService>(provider => new ProcessPools.Orleans.DependencyInjection.ClusterPoolHostedService(provider.GetRequiredKeyedService<ClusterProcessPool>(name)));
    }
}

/// <summary>Marks a cluster pool's registration, so that a second call for the same name adds nothing twice.</summary>
internal sealed record ClusterPoolRegistration(string Name);
