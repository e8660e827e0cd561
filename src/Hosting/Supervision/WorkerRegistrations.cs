using System.Reflection;
using Microsoft.Extensions.Hosting;
using ProcessPools.Generated;
using ProcessPools.Protocol;

namespace ProcessPools.Supervision;

/// <summary>
/// What a pool's workers add to their own hosts (job classes, initializers, exception handlers, host
/// configurators), collected by pool name from the builder calls. Types and static methods, never
/// instances: an instance cannot cross into a worker process.
/// </summary>
internal sealed class WorkerRegistrations
{
    public List<JobTarget> Jobs { get; } = [];

    public List<Type> Initializers { get; } = [];

    public List<Type> ExceptionHandlers { get; } = [];

    public List<JobDefinition> HostConfigurators { get; } = [];

    /// <summary>The setup every worker of the pool gets (each with its own worker id).</summary>
    public WorkerSetup CreateSetup(string poolName, ProcessPoolOptions options, IHostEnvironment? environment) => new()
    {
        PoolName = poolName,
        ContentRootPath = options.ContentRootPath ?? environment?.ContentRootPath ?? Environment.CurrentDirectory,
        EnvironmentName = options.EnvironmentName ?? environment?.EnvironmentName,
        ApplicationName = environment?.ApplicationName ?? Assembly.GetEntryAssembly()?.GetName().Name,
        SerializerType = options.Serializer.GetType().AssemblyQualifiedName!,
        ChildConcurrency = options.ChildConcurrency,
        MaxMessageSize = options.MaxMessageSize,
        HeartbeatTimeout = options.HeartbeatTimeout,
        Jobs = [.. Jobs.Select(job => TypeReference.From(job.JobType!))],
        Initializers = [.. Initializers.Select(TypeReference.From)],
        ExceptionHandlers = [.. ExceptionHandlers.Select(TypeReference.From)],
        HostConfigurators = [.. HostConfigurators],
        RegistryFingerprint = GeneratedRegistry.Fingerprint,
        RegistryAssemblies = [.. GeneratedRegistry.Assemblies.Select(assembly => new TypeReference(assembly.FullName!, ProcessPools.Jobs.AssemblyLocation.Of(assembly)))],
    };
}
