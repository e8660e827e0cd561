using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProcessPools.Dispatch;
using ProcessPools.Options;
using ProcessPools.Supervision;

namespace ProcessPools;

/// <summary>
/// Starts a process pool without a host: for console tools and tests. In an application with a host,
/// use <c>services.AddProcessPool(...)</c> instead, and inject <see cref="IProcessPool"/>.
/// </summary>
public static class ProcessPool
{
    /// <summary>Starts a pool and waits until every worker process is ready.</summary>
    /// <param name="configure">Sets the options; the defaults otherwise.</param>
    /// <param name="cancellationToken">Abandons the start (the workers started so far are killed).</param>
    /// <returns>The pool and the right to close it: dispose it to close it gracefully (queued and running jobs finish); hand others the <see cref="IProcessPool"/> it is.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range.</exception>
    /// <exception cref="ProcessPoolException">A worker could not start.</exception>
    public static Task<IProcessPoolOwner> StartAsync(Action<ProcessPoolOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new ProcessPoolOptions();
        configure?.Invoke(options);
        return StartAsync(options, NullLoggerFactory.Instance, cancellationToken);
    }

    /// <summary>
    /// Starts a pool whose workers add job classes, initializers, exception handlers or host customisations
    /// to their own hosts, and waits until every worker process is ready.
    /// </summary>
    /// <param name="configure">Sets the options; the defaults otherwise.</param>
    /// <param name="configureWorkers">Registers what the workers add to their hosts: <c>workers => workers.AddJob&lt;ResizeJob&gt;()</c>.</param>
    /// <param name="cancellationToken">Abandons the start (the workers started so far are killed).</param>
    public static Task<IProcessPoolOwner> StartAsync(
        Action<ProcessPoolOptions>? configure, Action<IProcessPoolBuilder> configureWorkers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configureWorkers);
        var options = new ProcessPoolOptions();
        configure?.Invoke(options);
        return StartAsync(options, NullLoggerFactory.Instance, configureWorkers, cancellationToken);
    }

    /// <summary>Starts a pool with the given options and logging, and waits until every worker process is ready.</summary>
    public static Task<IProcessPoolOwner> StartAsync(ProcessPoolOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        StartAsync(options, loggerFactory, configureWorkers: null, cancellationToken);

    private static async Task<IProcessPoolOwner> StartAsync(
        ProcessPoolOptions options, ILoggerFactory loggerFactory, Action<IProcessPoolBuilder>? configureWorkers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var engine = Create(string.Empty, options, configureWorkers, loggerFactory);
        await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        return engine;
    }

    /// <summary>A pool outside a host (this class, <see cref="WorkerProcess"/>): validates the options, collects the worker registrations, creates the engine.</summary>
    internal static PoolEngine Create(string name, ProcessPoolOptions options, Action<IProcessPoolBuilder>? configureWorkers, ILoggerFactory loggerFactory)
    {
        ProcessPoolOptionsValidation.ThrowIfInvalid(name, options);
        WorkerRegistrations? registrations = null;
        if (configureWorkers is not null)
        {
            // The same builder calls as in a host; what they register is applied here, without building a container.
            var services = new ServiceCollection();
            configureWorkers(new ProcessPoolBuilder(name, services));
            registrations = new WorkerRegistrations();
            foreach (var descriptor in services)
            {
                if (descriptor.ImplementationInstance is IConfigureNamedOptions<WorkerRegistrations> configure)
                {
                    configure.Configure(name, registrations);
                }
            }
        }

        return new PoolEngine(name, options, registrations, environment: null, loggerFactory, TimeProvider.System);
    }
}
