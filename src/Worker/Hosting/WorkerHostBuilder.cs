using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessPools.Generated;
using ProcessPools.Protocol;
using ProcessPools.Worker.Execution;

namespace ProcessPools.Worker.Hosting;

/// <summary>
/// Builds a worker's own generic host from its setup: the parent's content root and environment, the shared
/// appsettings.json, logging to the parent, then the application's host configurators, job classes,
/// exception handlers and initializers.
/// </summary>
internal static class WorkerHostBuilder
{
    public static async Task<IHost> BuildAsync(WorkerSetup setup, ILoggerProvider toParent)
    {
        // The empty builder plus what a worker needs of the default one: the shared appsettings.json files and
        // environment variables, and logging filtered by the "Logging" section. Measured here: the default
        // builder's file watchers (reloadOnChange) kept two idle workers at 0.2 % CPU together; without them the
        // parent and both workers idle at 0.1 % together.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = setup.ContentRootPath,
            EnvironmentName = setup.EnvironmentName,
            ApplicationName = setup.ApplicationName,
        });
        builder.Configuration
            .AddJsonFile("appsettings.json", optional: true, reloadOnChange: false)
            .AddJsonFile($"appsettings.{builder.Environment.EnvironmentName}.json", optional: true, reloadOnChange: false)
            .AddEnvironmentVariables();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));

        // Logs go to the parent, which writes them with its own providers; a console logger here would
        // only come back as stdout lines without category or level.
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(toParent);

        // The parent owns the worker's lifetime: no console lifetime, no "press Ctrl+C" banner.
        builder.Services.AddSingleton<IHostLifetime, WorkerHostLifetime>();
        builder.Services.AddSingleton(new WorkerContext(setup.PoolName, setup.WorkerId));

        // The application's own code first (its loop_initializer counterpart): it may register what the
        // job classes, initializers and handlers below depend on.
        foreach (var configurator in setup.HostConfigurators)
        {
            HostConfigurator(configurator)(builder);
        }

        foreach (var job in setup.Jobs)
        {
            AddService(builder.Services, GeneratedServiceKind.JobClass, job, "job class");
        }

        foreach (var handler in setup.ExceptionHandlers)
        {
            AddService(builder.Services, GeneratedServiceKind.JobExceptionHandler, handler, "job exception handler");
        }

        var initializers = setup.Initializers.Select(reference => AddService(builder.Services, GeneratedServiceKind.WorkerInitializer, reference, "worker initializer")).ToArray();
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        foreach (var type in initializers)
        {
            await ((IWorkerInitializer)host.Services.GetRequiredService(type)).InitializeAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return host;
    }

    /// <summary>A host configurator: through the generated registry, or by its metadata when the parent named it by reflection.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only for callbacks the parent named by reflection; the application's call site carries the warning.")]
    private static Action<IHostApplicationBuilder> HostConfigurator(JobDefinition definition)
    {
        if (definition.GeneratedId is { } id)
        {
            return GeneratedRegistry.TryGetHostConfigurator(id, new GeneratedSite(definition.SiteType, definition.SiteMethod))
                ?? throw new InvalidOperationException($"The worker's compile-time registry has no host configurator '{id}' ({definition.Name}): the worker runs a different build than the parent.");
        }

        var method = ApplicationAssemblies.ResolveMethod(definition);
        var instance = ApplicationAssemblies.InstanceFor(method);
        return builder => method.Invoke(instance, BindingFlags.DoNotWrapExceptions, binder: null, [builder], culture: null);
    }

    /// <summary>Adds a job class, handler or initializer: through the generated registry, or by its name when the parent's build has no generated code for it.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Types outside the generated registry come from builds without the generator, which are not trimmed.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Types outside the generated registry come from builds without the generator, which are not trimmed.")]
    private static Type AddService(IServiceCollection services, GeneratedServiceKind kind, TypeReference reference, string role)
    {
        if (GeneratedRegistry.TryAddService(kind, reference.TypeName, services) is { } generated)
        {
            return generated;
        }

        var type = ApplicationAssemblies.LoadType(reference, role);
        switch (kind)
        {
            case GeneratedServiceKind.JobClass:
                services.TryAddTransient(type);
                break;
            case GeneratedServiceKind.JobExceptionHandler:
                services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IJobExceptionHandler), type));
                break;
            default:
                services.TryAddSingleton(type);
                break;
        }

        return type;
    }

    private sealed class WorkerHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
