using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProcessPools;
using ProcessPools.DependencyInjection;
using ProcessPools.Dispatch;
using ProcessPools.Operations;
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
            services.TryAddSingleton<IProcessPool>(DefaultPool);
        }

        services.AddKeyedSingleton<IProcessPoolOperator>(name, static (provider, key) => provider.GetRequiredKeyedService<PoolEngine>(key).Operator);
        services.AddSingleton<IProcessPoolOperator>(new HostedServiceFactory(name).Operator);
        services.AddSingleton<IHostedService>(new HostedServiceFactory(name).Create);
        return builder;
    }

    /// <summary>
    /// Removes the pool <c>AddProcessPool(name)</c> added (its registration, its <see cref="IProcessPool"/> and the hosted
    /// service that starts its workers), so that a test can put another in its place (ProcessPool.Testing's
    /// <c>AddFakeProcessPool</c> does). Its options stay registered, unused. Nothing happens when there is no such pool.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The pool's name; the default pool's is <see cref="Microsoft.Extensions.Options.Options.DefaultName"/> (empty).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection RemoveProcessPool(this IServiceCollection services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (IsPart(services[i], name))
            {
                services.RemoveAt(i);
            }
        }

        return services;
    }

    private static bool IsPart(ServiceDescriptor descriptor, string name) => descriptor.IsKeyedService
            ? Equals(descriptor.ServiceKey, name) && (descriptor.ServiceType == typeof(PoolEngine) || descriptor.ServiceType == typeof(IProcessPool) || descriptor.ServiceType == typeof(ISerializedJobInvoker) || descriptor.ServiceType == typeof(IProcessPoolOperator))
            : (descriptor.ImplementationInstance is ProcessPoolRegistration registration && registration.Name == name)
                || (descriptor.ServiceType == typeof(IHostedService) && descriptor.ImplementationFactory?.Target is HostedServiceFactory factory && factory.Name == name)
                || (descriptor.ServiceType == typeof(IProcessPoolOperator) && descriptor.ImplementationFactory?.Target is HostedServiceFactory owner && owner.Name == name)
                || (name.Length == 0 && descriptor.ServiceType == typeof(IProcessPool) && Equals(descriptor.ImplementationFactory, (Func<IServiceProvider, object>)DefaultPool));

    private static PoolEngine DefaultPool(IServiceProvider provider) => provider.GetRequiredKeyedService<PoolEngine>(string.Empty);

    /// <summary>Makes the hosted service and the operator of one pool; it names the pool, so that <see cref="RemoveProcessPool"/> can find them.</summary>
    private sealed class HostedServiceFactory(string name)
    {
        public string Name => name;

        public PoolOperator Operator(IServiceProvider provider) => provider.GetRequiredKeyedService<PoolEngine>(name).Operator;

        public ProcessPoolHostedService Create(IServiceProvider provider) => new ProcessPoolHostedService(provider.GetRequiredKeyedService<PoolEngine>(name));
    }
}
