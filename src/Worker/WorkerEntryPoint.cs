using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessPools.Protocol;
using ProcessPools.Worker.Execution;

namespace ProcessPools.Worker;

/// <summary>
/// The worker process's entry point. <c>ProcessPool.Worker.dll</c> calls it from its own <c>Main</c>.
/// </summary>
public static class WorkerEntryPoint
{
    /// <summary>Gets whether this process was launched by a process pool as one of its workers.</summary>
    public static bool IsWorkerProcess => Environment.GetEnvironmentVariable(WorkerEnvironment.Token) is { Length: > 0 };

    /// <summary>Runs the worker until its parent shuts it down or goes away; returns the exit code.</summary>
    public static async Task<int> RunAsync()
    {
        var input = Environment.GetEnvironmentVariable(WorkerEnvironment.InputHandle);
        var output = Environment.GetEnvironmentVariable(WorkerEnvironment.OutputHandle);
        var token = Environment.GetEnvironmentVariable(WorkerEnvironment.Token);
        var parentId = Environment.GetEnvironmentVariable(WorkerEnvironment.ParentProcessId);
        if (input is null || output is null || token is null)
        {
            await Console.Error.WriteLineAsync(
                "ProcessPool.Worker is started by a process pool, not by hand: its channel and token come through the environment.").ConfigureAwait(false);
            return 2;
        }

        // The bootstrap variables must not leak into processes a job starts.
        foreach (var name in WorkerEnvironment.All)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        ApplicationAssemblies.EnableFallback();

        // Ctrl+C in a terminal (SIGINT) and a service manager's stop (systemd sends SIGTERM to the whole
        // control group) reach the workers too; the parent drains them gracefully, or they exit when its
        // channel closes. Seen here: without this, SIGTERM to the group lost the jobs in flight.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, static context => context.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, static context => context.Cancel = true);

        // Not disposed: the reader thread may still be blocked in a read on the input, and on Linux disposing
        // a pipe stream under a blocked read waits for that read (seen here: a worker that finished its work
        // hung in exit until its parent killed it). The process ends right after the session; the OS closes both.
#pragma warning disable CA2000
        var fromParent = new AnonymousPipeClientStream(PipeDirection.In, input);
        var toParent = new AnonymousPipeClientStream(PipeDirection.Out, output);
#pragma warning restore CA2000
        _ = int.TryParse(parentId, System.Globalization.CultureInfo.InvariantCulture, out var parentProcessId);
        var session = new WorkerSession(fromParent, toParent, token, parentProcessId);
        var exitCode = await session.RunAsync(BuildHostAsync).ConfigureAwait(false);
        if (session.ParentGone)
        {
            // Nobody will read what running jobs produce; a job's foreground thread must not keep the process alive.
            Environment.Exit(exitCode);
        }

        return exitCode;
    }

    private static async Task<IHost> BuildHostAsync(WorkerSetup setup, ILoggerProvider toParent)
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
