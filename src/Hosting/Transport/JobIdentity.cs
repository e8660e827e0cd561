using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace ProcessPools.Transport;

/// <summary>
/// The portable identity of a job: what lets another process of the same application (a cluster's silo, a service behind
/// a queue) find the job a caller named. A job the source generator saw goes by its generated id and the site of the
/// caller's delegate; a job class or request by its type; any other job by its method's assembly, module version and
/// metadata token, so a process running another build of the application refuses it instead of running something else.
/// </summary>
/// <remarks>Plain strings and numbers: a transport serializes it as it likes (the Orleans package through a surrogate).</remarks>
public sealed record JobIdentity
{
    private static readonly ConcurrentDictionary<JobTarget, JobIdentity> Identities = new();
    private static readonly ConcurrentDictionary<JobIdentity, JobTarget> Targets = new();

    /// <summary>Gets what kind of job it is.</summary>
    public JobTargetKind Kind { get; init; }

    /// <summary>Gets the job's readable name, for messages.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the id ProcessPool's source generator gave the job, if it did.</summary>
    public string? GeneratedId { get; init; }

    /// <summary>Gets the compiler's class of the caller's delegate method, for a generated lambda or private method.</summary>
    public string? SiteType { get; init; }

    /// <summary>Gets the compiler's name of the caller's delegate method.</summary>
    public string? SiteMethod { get; init; }

    /// <summary>Gets the full name of the job method's assembly, for a job named by reflection.</summary>
    public string? AssemblyName { get; init; }

    /// <summary>Gets the module version id of the caller's build of that assembly.</summary>
    public Guid ModuleVersionId { get; init; }

    /// <summary>Gets the job method's metadata token.</summary>
    public int MetadataToken { get; init; }

    /// <summary>Gets the assembly-qualified name of the job class, or of the request for a request.</summary>
    public string? TypeName { get; init; }

    /// <summary>Gets the assembly-qualified name of the result a request expects.</summary>
    public string? ResultTypeName { get; init; }

    /// <summary>The identity of a job, made once per target.</summary>
    /// <param name="target">The job a caller named.</param>
    public static JobIdentity Of(JobTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Identities.TryGetValue(target, out var known) ? known : Identities.GetOrAdd(target, Create);
    }

    /// <summary>The job this identity names, in this process; found once per identity.</summary>
    /// <exception cref="InvalidOperationException">This process does not have that job: it runs another build of the application.</exception>
    [RequiresUnreferencedCode("A job named by its type or method is found by reflection; a generated job (GeneratedId) is not.")]
    [RequiresDynamicCode("A job named by its method is invoked by reflection; a generated job (GeneratedId) is not.")]
    public JobTarget Resolve() => Targets.TryGetValue(this, out var known) ? known : Targets.GetOrAdd(this, static identity => identity.Find());

    private static JobIdentity Create(JobTarget target)
    {
        if (target.GeneratedId is { } id)
        {
            return new JobIdentity { Kind = target.Kind, Name = target.Name, GeneratedId = id, SiteType = target.GeneratedSite?.DeclaringType, SiteMethod = target.GeneratedSite?.Method };
        }

        switch (target.Kind)
        {
            case JobTargetKind.JobClass:
                return new JobIdentity { Kind = target.Kind, Name = target.Name, TypeName = target.JobType!.AssemblyQualifiedName };
            case JobTargetKind.Request:
                return new JobIdentity { Kind = target.Kind, Name = target.Name, TypeName = target.ParameterTypes[0].AssemblyQualifiedName, ResultTypeName = target.ResultType.AssemblyQualifiedName };
            default:
                var method = target.Method!;
                return new JobIdentity
                {
                    Kind = target.Kind,
                    Name = target.Name,
                    AssemblyName = method.Module.Assembly.FullName,
                    ModuleVersionId = method.Module.ModuleVersionId,
                    MetadataToken = method.MetadataToken,
                };
        }
    }

    [RequiresUnreferencedCode("Finds types and methods by name.")]
    [RequiresDynamicCode("Invokes methods by reflection.")]
    private JobTarget Find()
    {
        if (GeneratedId is { } id)
        {
            return ProcessPools.Generated.GeneratedRegistry.Target(id, new ProcessPools.Generated.GeneratedSite(SiteType, SiteMethod));
        }

        switch (Kind)
        {
            case JobTargetKind.JobClass:
                return JobTarget.FromJobType(TypeOf(TypeName));
            case JobTargetKind.Request:
                return JobTarget.ForRequest(TypeOf(TypeName), TypeOf(ResultTypeName));
            default:
                Assembly assembly;
                try
                {
                    assembly = Assembly.Load(new AssemblyName(AssemblyName!));
                }
                catch (Exception exception) when (exception is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    throw new InvalidOperationException($"Job '{Name}' lives in '{AssemblyName}', which this process cannot load: {exception.Message}", exception);
                }

                var module = assembly.ManifestModule;
                if (module.ModuleVersionId != ModuleVersionId)
                {
                    throw new InvalidOperationException(
                        $"Job '{Name}' comes from another build of '{assembly.GetName().Name}' than this process runs (module version {ModuleVersionId}, here {module.ModuleVersionId}): deploy the same build to the caller and to this process.");
                }

                var method = module.ResolveMethod(MetadataToken) as MethodInfo
                    ?? throw new InvalidOperationException($"Job '{Name}' names no method in '{assembly.GetName().Name}'.");
                return JobTarget.FromMethod(method);
        }
    }

    [RequiresUnreferencedCode("Finds a type by name.")]
    private Type TypeOf(string? typeName) =>
        Type.GetType(typeName ?? string.Empty, throwOnError: false)
        ?? throw new InvalidOperationException($"Job '{Name}' needs the type '{typeName}', which this process does not have: deploy the same build to the caller and to this process.");
}
