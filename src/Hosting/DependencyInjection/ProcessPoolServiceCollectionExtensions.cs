using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProcessPools;
using ProcessPools.DependencyInjection;
using ProcessPools.Dispatch;
using ProcessPools.Options;
using ProcessPools.Supervision;
using ProcessPools.Transport;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers process pools: a hosted service owns the workers, callers inject <see cref="IProcessPool"/>.</summary>
public static class ProcessPoolServiceCollectionExtensions
{
    /// <summary>Adds the default pool, configured in code; inject it as <see cref="IProcessPool"/>.</summary>
    public static IProcessPoolBuilder AddProcessPool(this IServiceCollection services, Action<ProcessPoolOptions>? configure = null) =>
        services.AddProcessPool(Microsoft.Extensions.Options.Options.DefaultName, configure);

    /// <summary>
    /// Adds the default pool, bound to a configuration section (by convention <c>"ProcessPool"</c>). A key that is no
    /// setting, or a value out of range, fails the host's start with a message naming the key's full path.
    /// </summary>
    public static IProcessPoolBuilder AddProcessPool(this IServiceCollection services, IConfiguration section) =>
        services.AddProcessPool(Microsoft.Extensions.Options.Options.DefaultName, section);

    /// <summary>Adds a named pool, configured in code; inject it with <c>[FromKeyedServices(name)] IProcessPool</c>.</summary>
    public static IProcessPoolBuilder AddProcessPool(this IServiceCollection services, string name, Action<ProcessPoolOptions>? configure)
    {
        var builder = AddCore(services, name);
        if (configure is not null)
        {
            services.Configure(name, configure);
        }

        return builder;
    }

    /// <summary>Adds a named pool bound to a configuration section; inject it with <c>[FromKeyedServices(name)] IProcessPool</c>.</summary>
    public static IProcessPoolBuilder AddProcessPool(this IServiceCollection services, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var builder = AddCore(services, name);
        services.AddSingleton<IConfigureOptions<ProcessPoolOptions>>(new OptionsSectionBinder<ProcessPoolOptions>(
            name,
            section,
            PoolNames.Subject(name),
            static (section, options) => section.Bind(options), // bound by the configuration binding generator, not reflection
            [nameof(ProcessPoolOptions.Serializer), nameof(ProcessPoolOptions.SchedulerFactory)],
            "AddProcessPool(..., options => options.{0} = ...)"));
        return builder;
    }

    private static ProcessPoolBuilder AddCore(IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        var builder = new ProcessPoolBuilder(name, services);
        if (services.Any(d => d.ImplementationInstance is ProcessPoolRegistration registered && registered.Name == name))
        {
            return builder;
        }

        services.AddSingleton(new ProcessPoolRegistration(name));
        services.AddOptions<ProcessPoolOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProcessPoolOptions>, ProcessPoolOptionsValidation>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        services.AddKeyedSingleton(name, static (provider, key) =>
        {
            var poolName = (string)key!;
            var options = provider.GetRequiredService<IOptionsMonitor<ProcessPoolOptions>>().Get(poolName);
            var environment = provider.GetService<IHostEnvironment>();
            var registrations = provider.GetRequiredService<IOptionsMonitor<WorkerRegistrations>>().Get(poolName);
            return new PoolEngine(
                poolName,
                options,
                registrations,
                environment,
                provider.GetRequiredService<ILoggerFactory>(),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetService<IMeterFactory>());
        });
        services.AddKeyedSingleton<IProcessPool>(name, static (provider, key) => provider.GetRequiredKeyedService<PoolEngine>(key));
        services.AddKeyedSingleton<ISerializedJobInvoker>(name, static (provider, key) => provider.GetRequiredKeyedService<PoolEngine>(key));
        if (name.Length == 0)
        {
            services.TryAddSingleton<IProcessPool>(static provider => provider.GetRequiredKeyedService<PoolEngine>(string.Empty));
        }

        services.AddSingleton<IHostedService>(provider => new ProcessPoolHostedService(provider.GetRequiredKeyedService<PoolEngine>(name)));
        return builder;
    }
}
