using Microsoft.Extensions.DependencyInjection;

namespace ProcessPools;

/// <summary>Worker-side registrations of a pool. They name types, not instances: lambdas cannot cross into a worker process.</summary>
public static class ProcessPoolBuilderExtensions
{
    /// <summary>
    /// Adds an initializer that runs once in every worker of this pool before its first job,
    /// created from the worker's container.
    /// </summary>
    public static IProcessPoolBuilder AddWorkerInitializer<TInitializer>(this IProcessPoolBuilder builder)
        where TInitializer : class, IWorkerInitializer
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<WorkerRegistrations>(builder.Name, registrations =>
        {
            if (!registrations.Initializers.Contains(typeof(TInitializer)))
            {
                registrations.Initializers.Add(typeof(TInitializer));
            }
        });
        return builder;
    }
}

/// <summary>The types a pool's workers register in their own hosts, by pool name.</summary>
internal sealed class WorkerRegistrations
{
    public List<Type> Initializers { get; } = [];
}
