using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using ProcessPools.Orleans.Execution;
using ProcessPools.Orleans.Placement;

namespace Orleans.Hosting;

/// <summary>Runs process pool jobs sent by the cluster's front ends on this silo's own pools.</summary>
public static class ProcessPoolSiloBuilderExtensions
{
    /// <summary>
    /// Adds the process pool execution grain to this silo: the cluster's front ends send it jobs, which it runs on this
    /// silo's own pools (registered as usual with <c>services.AddProcessPool(...)</c>). When the silo stops gracefully it
    /// drains first: it takes no new job, and the jobs it runs finish (within its pools' <c>ShutdownTimeout</c>) before it
    /// leaves the cluster. Also turns on Orleans' trace propagation, so a job's trace runs from the caller through the
    /// grain into the worker process.
    /// </summary>
    public static ISiloBuilder AddProcessPoolExecution(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(ExecutionDrain)))
        {
            return builder;
        }

        builder.Services.AddSingleton<ExecutionDrain>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(static provider => provider.GetRequiredService<ExecutionDrain>());
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(ProcessPoolGrain).Assembly));
        builder.Services.AddPlacementDirector<SiloPinnedPlacementStrategy, SiloPinnedPlacementDirector>();
        builder.AddActivityPropagation();
        return builder;
    }
}
