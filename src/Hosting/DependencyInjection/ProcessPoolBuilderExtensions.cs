using Microsoft.Extensions.Hosting;
using ProcessPools;
using ProcessPools.Jobs;
using ProcessPools.Supervision;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Worker-side registrations of a pool: what each worker process adds to its own host. They name types
/// or static methods, never instances: an instance cannot cross into a worker process.
/// </summary>
public static class ProcessPoolBuilderExtensions
{
    /// <summary>
    /// Adds a job class, created in the worker from a dependency-injection scope per job (constructor
    /// injection from the worker's container). Call it with <c>pool.SendAsync(request)</c> when its
    /// argument implements <see cref="IJobRequest{TResult}"/>, or with
    /// <c>pool.InvokeAsync&lt;TResult&gt;(JobTarget.FromJobType(typeof(TJob)), [argument])</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The class is not a concrete job class, or its argument's <see cref="IJobRequest{TResult}"/> names another result type.</exception>
    public static IProcessPoolBuilder AddJob<TJob>(this IProcessPoolBuilder builder)
        where TJob : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var target = JobTarget.FromJobType(typeof(TJob));
        var argumentType = target.ParameterTypes[0];
        var promised = argumentType.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IJobRequest<>))
            .Select(i => i.GetGenericArguments()[0])
            .ToArray();
        if (promised.Length > 0 && !promised.Contains(target.ResultType))
        {
            throw new ArgumentException(
                $"The job class '{target.Name}' returns {target.ResultType}, but its argument {argumentType} is an IJobRequest<{promised[0]}>.",
                nameof(TJob));
        }

        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.Jobs, typeof(TJob)));
        return builder;
    }

    /// <summary>
    /// Adds an initializer that runs once in every worker of this pool before its first job,
    /// created from the worker's container.
    /// </summary>
    public static IProcessPoolBuilder AddWorkerInitializer<TInitializer>(this IProcessPoolBuilder builder)
        where TInitializer : class, IWorkerInitializer
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.Initializers, typeof(TInitializer)));
        return builder;
    }

    /// <summary>Adds a handler that runs in the worker process whenever one of this pool's jobs throws.</summary>
    public static IProcessPoolBuilder AddJobExceptionHandler<THandler>(this IProcessPoolBuilder builder)
        where THandler : class, IJobExceptionHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.ExceptionHandlers, typeof(THandler)));
        return builder;
    }

    /// <summary>
    /// Customises every worker's own host before it is built: its services, logging and configuration
    /// (aiomultiprocess's <c>loop_initializer</c>). The callback runs in each worker process, so it must be a
    /// static method or a lambda that captures nothing (mark it <see langword="static"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The callback captures state or is an instance method.</exception>
    public static IProcessPoolBuilder ConfigureWorkerHost(this IProcessPoolBuilder builder, Action<IHostApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var method = JobShape.StaticMethodOf(
            configure,
            nameof(configure),
            "worker host configurator",
            "It runs in each worker process, before the worker's host is built: read what it needs from the worker's own configuration (builder.Configuration, the same appsettings.json), and mark the lambda 'static'.");
        if (method.IsGenericMethod || method.DeclaringType?.IsGenericType == true || method.Module.Assembly.IsDynamic)
        {
            throw new ArgumentException($"The worker host configurator '{method.DeclaringType}.{method.Name}' must be a non-generic method of a loadable assembly.", nameof(configure));
        }

        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.HostConfigurators, method));
        return builder;
    }

    private static void AddOnce<T>(List<T> list, T item)
    {
        if (!list.Contains(item))
        {
            list.Add(item);
        }
    }
}
