using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProcessPools.Dispatch;
using ProcessPools.Options;
using ProcessPools.Protocol;

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
    /// <returns>The pool; dispose it to close it gracefully (queued and running jobs finish).</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range.</exception>
    /// <exception cref="ProcessPoolException">A worker could not start.</exception>
    public static Task<IProcessPool> StartAsync(Action<ProcessPoolOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new ProcessPoolOptions();
        configure?.Invoke(options);
        return StartAsync(options, NullLoggerFactory.Instance, cancellationToken);
    }

    /// <summary>Starts a pool with the given options and logging, and waits until every worker process is ready.</summary>
    public static async Task<IProcessPool> StartAsync(ProcessPoolOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ProcessPoolOptionsValidation.ThrowIfInvalid(string.Empty, options);
        var engine = new PoolEngine(string.Empty, options, CreateSetup(string.Empty, options, null, null, null), loggerFactory, TimeProvider.System);
        await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        return engine;
    }

    internal static WorkerSetup CreateSetup(
        string name, ProcessPoolOptions options, string? contentRoot, string? environmentName, string? applicationName, WorkerRegistrations? registrations = null) => new()
    {
        Initializers = [.. (registrations?.Initializers ?? []).Select(t => t.AssemblyQualifiedName!)],
        PoolName = name,
        ContentRootPath = options.ContentRootPath ?? contentRoot ?? Environment.CurrentDirectory,
        EnvironmentName = options.EnvironmentName ?? environmentName,
        ApplicationName = applicationName ?? System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name,
        SerializerType = options.Serializer.GetType().AssemblyQualifiedName!,
        ChildConcurrency = options.ChildConcurrency,
        MaxMessageSize = options.MaxMessageSize,
    };
}
