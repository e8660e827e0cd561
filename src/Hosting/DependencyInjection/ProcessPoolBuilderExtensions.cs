using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Hosting;
using ProcessPools;
using ProcessPools.Jobs;
using ProcessPools.Protocol;
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
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The argument's IJobRequest<T> is kept with it wherever requests are sent; where trimmed away, this early check finds nothing to compare.")]
    public static IProcessPoolBuilder AddJob<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces | DynamicallyAccessedMemberTypes.PublicConstructors)] TJob>(this IProcessPoolBuilder builder)
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

        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.Jobs, target));
        return builder;
    }

    /// <summary>
    /// Adds an initializer that runs once in every worker of this pool before its first job,
    /// created from the worker's container.
    /// </summary>
    public static IProcessPoolBuilder AddWorkerInitializer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInitializer>(this IProcessPoolBuilder builder)
        where TInitializer : class, IWorkerInitializer
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.Initializers, typeof(TInitializer)));
        return builder;
    }

    /// <summary>Adds a handler that runs in the worker process whenever one of this pool's jobs throws.</summary>
    public static IProcessPoolBuilder AddJobExceptionHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IProcessPoolBuilder builder)
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
    /// <remarks>
    /// A method or lambda passed directly is named at compile time by ProcessPool's source generator; this overload is what
    /// runs for a callback it could not see, naming the method by reflection.
    /// </remarks>
    /// <exception cref="ArgumentException">The callback captures state or is an instance method.</exception>
    [RequiresUnreferencedCode(JobShape.ReflectionPath)]
    [RequiresDynamicCode(JobShape.ReflectionPath)]
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

        var definition = JobDefinition.From(method);
        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.HostConfigurators, definition));
        return builder;
    }

    /// <summary>
    /// Adds a host configurator that ProcessPool's source generator named at compile time: the interceptor of a
    /// <c>ConfigureWorkerHost(...)</c> call calls this; the worker runs the same callback through its generated registry.
    /// </summary>
    /// <param name="builder">The pool's builder.</param>
    /// <param name="generatedId">The id the generator gave the call.</param>
    /// <param name="name">The callback's readable name.</param>
    /// <param name="configure">The callback at the call site (only its method's names are read).</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static IProcessPoolBuilder ConfigureGeneratedWorkerHost(this IProcessPoolBuilder builder, string generatedId, string name, Action<IHostApplicationBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(generatedId);
        ArgumentNullException.ThrowIfNull(configure);
        var definition = JobDefinition.ForGenerated(generatedId, name, configure);
        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations => AddOnce(registrations.HostConfigurators, definition));
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
