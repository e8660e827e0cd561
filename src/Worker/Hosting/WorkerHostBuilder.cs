using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
            var method = ApplicationAssemblies.ResolveMethod(configurator);
            method.Invoke(ApplicationAssemblies.InstanceFor(method), System.Reflection.BindingFlags.DoNotWrapExceptions, binder: null, [builder], culture: null);
        }

        foreach (var job in setup.Jobs)
        {
            builder.Services.TryAddTransient(ApplicationAssemblies.LoadType(job, "job class"));
        }

        foreach (var handler in setup.ExceptionHandlers)
        {
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IJobExceptionHandler), ApplicationAssemblies.LoadType(handler, "job exception handler")));
        }

        var initializers = setup.Initializers.Select(reference => ApplicationAssemblies.LoadType(reference, "worker initializer")).ToArray();
        foreach (var type in initializers)
        {
            builder.Services.TryAddSingleton(type);
        }

        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        foreach (var type in initializers)
        {
            await ((IWorkerInitializer)host.Services.GetRequiredService(type)).InitializeAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return host;
    }

    private sealed class WorkerHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
