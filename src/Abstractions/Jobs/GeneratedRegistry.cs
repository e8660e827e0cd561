using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ProcessPools.Generated;

/// <summary>
/// The application's compile-time job registry: every job, job class, worker initializer, exception handler,
/// host configurator and serializer that ProcessPool's source generator found, registered by generated code
/// when the assembly loads (in the parent and in each worker, which run the same build). The parent names a
/// job by its generated id; the worker calls it through a typed invoker, with no reflection. Both sides
/// compare the registry's <see cref="Fingerprint"/> when a worker starts: different builds are refused.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedRegistry
{
    private static readonly ConcurrentDictionary<string, GeneratedJob> Jobs = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, GeneratedJob> JobClasses = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, JobTarget> Targets = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Registration> Types = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<GeneratedSite, Action<IHostApplicationBuilder>>> HostConfigurators = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<IJobSerializer>> Serializers = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> Keys = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Assembly, byte> RegisteredAssemblies = new();
    private static string? s_fingerprint;

    static GeneratedRegistry() => Serializers[typeof(JsonJobSerializer).AssemblyQualifiedName!] = static () => new JsonJobSerializer();

    /// <summary>Gets how many entries the registry holds.</summary>
    public static int Count => Keys.Count;

    /// <summary>
    /// Gets a digest of every entry (ids and shapes): equal in two processes exactly when they run the same
    /// generated code. Empty when nothing was generated.
    /// </summary>
    public static string Fingerprint => s_fingerprint ??= Digest();

    /// <summary>Gets the assemblies whose generated code registered entries (a worker started from the worker assembly loads them first).</summary>
    public static IReadOnlyCollection<Assembly> Assemblies => [.. RegisteredAssemblies.Keys];

    /// <summary>Records that <paramref name="assembly"/> carries generated registrations.</summary>
    public static void AddAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        RegisteredAssemblies.TryAdd(assembly, 0);
    }

    /// <summary>Registers a job found at a call site.</summary>
    public static void AddJob(GeneratedJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentException.ThrowIfNullOrEmpty(job.Id, "job.Id");
        ArgumentException.ThrowIfNullOrEmpty(job.Name, "job.Name");
        ArgumentNullException.ThrowIfNull(job.SentTypes, "job.SentTypes");
        ArgumentNullException.ThrowIfNull(job.ResultType, "job.ResultType");
        ArgumentNullException.ThrowIfNull(job.Binder, "job.Binder");
        if (Jobs.TryAdd(job.Id, job))
        {
            Add("job:" + job.Id, $"{string.Join(",", job.SentTypes.Select(t => t.FullName))}->{job.ResultType.FullName}");
        }
    }

    /// <summary>
    /// Registers a job class (<c>AddJob&lt;TJob&gt;()</c>): added to the worker's container, and described as a generated
    /// job (its argument and result types, a typed invoker) under its assembly-qualified name.
    /// </summary>
    public static void AddJobClass<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TJob, TArgument, TResult>()
        where TJob : class, IProcessJob<TArgument, TResult>
    {
        AddType(GeneratedServiceKind.JobClass, typeof(TJob), static services => services.TryAddTransient<TJob>());
        var name = typeof(TJob).AssemblyQualifiedName!;
        JobClasses.TryAdd(name, new GeneratedJob { Id = name, Name = typeof(TJob).FullName!, SentTypes = [typeof(TArgument)], ResultType = typeof(TResult), Binder = static _ => GeneratedInvoker.JobClass<TJob, TArgument, TResult>() });
    }

    /// <summary>Registers a worker initializer (<c>AddWorkerInitializer&lt;T&gt;()</c>).</summary>
    public static void AddWorkerInitializer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInitializer>()
        where TInitializer : class, IWorkerInitializer
        => AddType(GeneratedServiceKind.WorkerInitializer, typeof(TInitializer), static services => services.TryAddSingleton<TInitializer>());

    /// <summary>Registers a job exception handler (<c>AddJobExceptionHandler&lt;T&gt;()</c>).</summary>
    public static void AddJobExceptionHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>()
        where THandler : class, IJobExceptionHandler
        => AddType(GeneratedServiceKind.JobExceptionHandler, typeof(THandler), static services => services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobExceptionHandler, THandler>()));

    /// <summary>Registers a host configurator found at a <c>ConfigureWorkerHost(...)</c> call.</summary>
    /// <param name="id">The id, stable within one build.</param>
    /// <param name="bind">Makes the callback, given where the parent's delegate points.</param>
    public static void AddHostConfigurator(string id, Func<GeneratedSite, Action<IHostApplicationBuilder>> bind)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(bind);
        if (HostConfigurators.TryAdd(id, bind))
        {
            Add("host:" + id, string.Empty);
        }
    }

    /// <summary>Registers a serializer class, so a worker creates it without reflection.</summary>
    public static void AddSerializer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TSerializer>()
        where TSerializer : class, IJobSerializer, new()
    {
        var name = typeof(TSerializer).AssemblyQualifiedName!;
        if (Serializers.TryAdd(name, static () => new TSerializer()))
        {
            Add("serializer:" + typeof(TSerializer).FullName, string.Empty);
        }
    }

    /// <summary>The target of a generated job, for the parent's call: made once per id and delegate method.</summary>
    /// <param name="id">The job's generated id.</param>
    /// <param name="job">The delegate at the call site (only its method's names are read, for a lambda).</param>
    /// <exception cref="InvalidOperationException">No job of that id is registered (the generated code did not run).</exception>
    public static JobTarget Target(string id, Delegate job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var site = GeneratedSite.Of(job);
        var key = $"{id}|{site.DeclaringType}|{site.Method}";
        if (Targets.TryGetValue(key, out var known))
        {
            return known;
        }

        var generated = Jobs.TryGetValue(id, out var found)
            ? found
            : throw new InvalidOperationException($"The generated job '{id}' is not registered: the application's generated module initializer did not run.");
        return Targets.GetOrAdd(key, JobTarget.FromGenerated(generated, site, job.Method));
    }

    /// <summary>
    /// The target of a generated job that another process of the same application named (a cluster's front end): found
    /// by its id and the site of the caller's delegate, with no delegate of its own.
    /// </summary>
    /// <param name="id">The job's generated id.</param>
    /// <param name="site">Where the caller's delegate pointed (read by the worker for a lambda or a private method).</param>
    /// <exception cref="InvalidOperationException">No job of that id is registered: this process runs another build of the application.</exception>
    public static JobTarget Target(string id, GeneratedSite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        var key = $"{id}|{site.DeclaringType}|{site.Method}";
        if (Targets.TryGetValue(key, out var known))
        {
            return known;
        }

        var generated = Jobs.TryGetValue(id, out var found)
            ? found
            : throw new InvalidOperationException($"The generated job '{id}' is not registered in this process: it runs a different build of the application than the caller.");
        return Targets.GetOrAdd(key, JobTarget.FromGenerated(generated, site, method: null));
    }

    /// <summary>Finds a generated job by id.</summary>
    public static bool TryGetJob(string id, [NotNullWhen(true)] out GeneratedJob? job) => Jobs.TryGetValue(id, out job);

    /// <summary>Finds a generated job class by its assembly-qualified name.</summary>
    public static bool TryGetJobClass(string typeName, [NotNullWhen(true)] out GeneratedJob? job) => JobClasses.TryGetValue(typeName, out job);

    /// <summary>Adds a generated job class, initializer or handler to a worker's services; returns its type, or <see langword="null"/> when it is not generated.</summary>
    public static Type? TryAddService(GeneratedServiceKind kind, string typeName, IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!Types.TryGetValue($"{kind}:{typeName}", out var registration))
        {
            return null;
        }

        registration.Register(services);
        return registration.Type;
    }

    /// <summary>The callback of a generated host configurator, or <see langword="null"/>.</summary>
    public static Action<IHostApplicationBuilder>? TryGetHostConfigurator(string id, GeneratedSite site) =>
        HostConfigurators.TryGetValue(id, out var bind) ? bind(site) : null;

    /// <summary>Creates a registered serializer by its assembly-qualified name, or returns <see langword="null"/>.</summary>
    public static IJobSerializer? TryCreateSerializer(string typeName) => Serializers.TryGetValue(typeName, out var create) ? create() : null;

    /// <summary>Whether a worker can create this serializer without reflection.</summary>
    public static bool IsSerializerRegistered(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Serializers.ContainsKey(type.AssemblyQualifiedName ?? string.Empty);
    }

    /// <summary>
    /// The delegate a worker calls for code the generated code cannot name directly (a lambda, or a private
    /// method): found by the compiler's names, which the parent read from its own delegate, inside
    /// <paramref name="enclosing"/>, all of whose members (nested classes included) are kept by the trimmer.
    /// </summary>
    /// <typeparam name="TDelegate">The delegate type at the call site.</typeparam>
    /// <param name="enclosing">The type whose code holds the lambda or method.</param>
    /// <param name="site">The compiler's class and method names.</param>
    /// <exception cref="InvalidOperationException">The names do not lead to a method of that type (a different build).</exception>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "DynamicallyAccessedMemberTypes.All on the enclosing type keeps its nested types with all their members.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "DynamicallyAccessedMemberTypes.All on the enclosing type keeps its nested types with all their members.")]
    public static TDelegate Bind<TDelegate>([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] Type enclosing, GeneratedSite site)
        where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(enclosing);
        ArgumentNullException.ThrowIfNull(site);
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var holder = FindType(enclosing, site.DeclaringType, depth: 0)
            ?? throw new InvalidOperationException($"The worker found no class '{site.DeclaringType}' in {enclosing.FullName}: the worker runs a different build than the parent.");
        var method = holder.GetMethods(All).FirstOrDefault(m => m.Name == site.Method)
            ?? throw new InvalidOperationException($"The worker found no method '{site.Method}' in {holder.FullName}: the worker runs a different build than the parent.");
        if (method.IsStatic)
        {
            return method.CreateDelegate<TDelegate>();
        }

        // A lambda that captures nothing is an instance method of the compiler's singleton closure, held in a static field.
        var singleton = holder.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .FirstOrDefault(f => f.FieldType == holder)?.GetValue(null)
            ?? throw new InvalidOperationException($"The method '{site.Method}' of {holder.FullName} needs an instance: only static methods and lambdas that capture nothing can run in a worker.");
        return method.CreateDelegate<TDelegate>(singleton);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Called on the enclosing type annotated with All, whose nested types keep all their members.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Called on the enclosing type annotated with All, whose nested types keep all their members.")]
    private static Type? FindType(Type type, string? fullName, int depth)
    {
        if (fullName is null || type.FullName == fullName)
        {
            return type;
        }

        if (depth > 8)
        {
            return null;
        }

        foreach (var nested in type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (FindType(nested, fullName, depth + 1) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private static void AddType(GeneratedServiceKind kind, Type type, Action<IServiceCollection> register)
    {
        if (Types.TryAdd($"{kind}:{type.AssemblyQualifiedName}", new Registration(type, register)))
        {
            Add($"{kind}:{type.FullName}", string.Empty);
        }
    }

    private static void Add(string key, string shape)
    {
        Keys[key] = shape;
        s_fingerprint = null;
    }

    private static string Digest()
    {
        if (Keys.IsEmpty)
        {
            return string.Empty;
        }

        // FNV-1a over the sorted entries, 64 bits twice (two offsets): a build's identity, not a secret, so no
        // cryptographic hash (which would load OpenSSL into every worker: 3.5 MiB of resident memory, measured).
        var first = 14695981039346656037UL;
        var second = 1099511628211UL * 31;
        foreach (var (key, shape) in Keys.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            foreach (var character in $"{key}={shape}\n")
            {
                first = (first ^ character) * 1099511628211UL;
                second = (second ^ character) * 1099511628211UL;
            }
        }

        return $"{first:X16}{second:X16}";
    }

    private sealed record Registration(Type Type, Action<IServiceCollection> Register);
}

/// <summary>What a generated type is to a worker's host.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum GeneratedServiceKind
{
    /// <summary>A job class (<c>AddJob&lt;TJob&gt;()</c>).</summary>
    JobClass,

    /// <summary>A worker initializer.</summary>
    WorkerInitializer,

    /// <summary>A job exception handler.</summary>
    JobExceptionHandler,
}
