using System.Linq;

namespace ProcessPools.Generators.Model;

/// <summary>Which public method a call site calls, and so what its interceptor does.</summary>
internal enum CallKind
{
    /// <summary><c>pool.ApplyAsync(job, ...)</c>: one job, its result.</summary>
    Apply,

    /// <summary><c>pool.Map(job, items)</c> and <c>pool.StarMap(job, tuples)</c>: a job per item.</summary>
    Map,

    /// <summary><c>WorkerProcess.StartAsync(job, ...)</c>: one job in a process of its own.</summary>
    StartWorker,

    /// <summary><c>builder.ConfigureWorkerHost(configure)</c>: a callback each worker runs on its host builder.</summary>
    ConfigureHost,
}

/// <summary>What a parameter of the intercepted method is for: the generated code passes each one on by its role.</summary>
internal enum ParameterRole
{
    /// <summary>The pool, or the builder (the extension method's receiver).</summary>
    Receiver,

    /// <summary>The job delegate, or the host configurator.</summary>
    Callback,

    /// <summary>An argument sent to the job.</summary>
    Sent,

    /// <summary>A map's items.</summary>
    Items,

    /// <summary>The call's cancellation token.</summary>
    Token,

    /// <summary><c>WorkerProcess.StartAsync</c>'s options callback.</summary>
    ConfigureOptions,

    /// <summary><c>WorkerProcess.StartAsync</c>'s worker builder callback.</summary>
    ConfigureWorker,
}

/// <summary>Where a job argument comes from in the worker.</summary>
internal enum ArgumentSource
{
    /// <summary>Sent by the caller, deserialized to its declared type.</summary>
    Sent,

    /// <summary>The job's cancellation token.</summary>
    Token,

    /// <summary>The worker's services (a scope per call).</summary>
    Services,
}

/// <summary>One intercepted call: where it is, the method it replaces, and the job it names.</summary>
/// <param name="Kind">Which public method is called.</param>
/// <param name="Location">The compiler's interceptable location of the call.</param>
/// <param name="Signature">The intercepted method's signature, which the interceptor repeats.</param>
/// <param name="Job">The job (or host configurator) the call passes.</param>
/// <param name="ResultType">The call's result type: <c>T</c> of <c>Task&lt;T&gt;</c>, <c>PoolResult&lt;T&gt;</c> or <c>WorkerProcess&lt;T&gt;</c>; null for none.</param>
/// <param name="ItemType">A map's item type (a tuple for <c>StarMap</c>).</param>
internal sealed record CallSpec(CallKind Kind, InterceptionSpec Location, SignatureSpec Signature, JobSpec Job, string? ResultType, string? ItemType)
{
    /// <summary>The calls one interceptor can serve: the same method signature and the same job.</summary>
    public (CallKind Kind, SignatureSpec Signature, string JobId) GroupKey => (Kind, Signature, Job.Id);
}

/// <summary>An <c>[InterceptsLocation]</c>'s arguments.</summary>
internal sealed record InterceptionSpec(int Version, string Data, string DisplayLocation);

/// <summary>The intercepted method's signature: rendered types, each parameter with its role.</summary>
internal sealed record SignatureSpec(string ReturnType, EquatableArray<ParameterSpec> Parameters, bool IsExtension);

/// <summary>One parameter of the intercepted method.</summary>
internal sealed record ParameterSpec(string Type, ParameterRole Role);

/// <summary>A job the generator named: its id and name, and how a worker binds and calls it.</summary>
/// <param name="Id">The stable id that crosses to the worker.</param>
/// <param name="Name">The readable name (messages, traces).</param>
/// <param name="DelegateType">The delegate type the worker's code is bound as.</param>
/// <param name="DirectMethod">The method the generated code names directly, when it can; otherwise the worker finds it by name.</param>
/// <param name="HolderType">The type that holds the code a worker finds by name (a private method, a local function, a lambda).</param>
/// <param name="Shape">The job's parameters and result; null for a host configurator.</param>
internal sealed record JobSpec(string Id, string Name, string DelegateType, string? DirectMethod, string? HolderType, ShapeSpec? Shape);

/// <summary>A job's signature as the worker calls it.</summary>
/// <param name="Arguments">Each parameter of the job, in order, and where the worker gets it.</param>
/// <param name="ResultType">The result type, or null for a job that returns <c>Task</c> or <c>ValueTask</c>.</param>
/// <param name="ResultRuntimeType">The result type as written in <c>typeof</c> (no nullable annotation).</param>
/// <param name="ReturnsValueTask">Whether the job returns a <c>ValueTask</c> (else a <c>Task</c>).</param>
internal sealed record ShapeSpec(EquatableArray<ArgumentSpec> Arguments, string? ResultType, string? ResultRuntimeType, bool ReturnsValueTask)
{
    /// <summary>Gets whether the worker gives each call its own scope (the job takes <c>IServiceProvider</c>).</summary>
    public bool Scoped => Arguments.Any(a => a.Source == ArgumentSource.Services);

    /// <summary>Gets the sent arguments, in order.</summary>
    public System.Collections.Generic.IEnumerable<ArgumentSpec> Sent => Arguments.Where(a => a.Source == ArgumentSource.Sent);

    /// <summary>
    /// Gets whether the job has the typed one-argument form a map's chunks run without boxing: one sent argument,
    /// optionally followed by the token, and a result.
    /// </summary>
    public bool IsUnary => ResultType is not null && Arguments.Count is 1 or 2 && Arguments[0].Source == ArgumentSource.Sent
        && (Arguments.Count == 1 || Arguments[1].Source == ArgumentSource.Token);
}

/// <summary>One parameter of a job.</summary>
/// <param name="Source">Where the worker gets it.</param>
/// <param name="Type">A sent parameter's type as written in a cast (nullable annotations kept).</param>
/// <param name="RuntimeType">A sent parameter's type as written in <c>typeof</c> (no nullable annotation).</param>
internal sealed record ArgumentSpec(ArgumentSource Source, string? Type, string? RuntimeType);

/// <summary>What <c>AddJob&lt;T&gt;()</c>, <c>AddWorkerInitializer&lt;T&gt;()</c>, <c>AddJobExceptionHandler&lt;T&gt;()</c> or a serializer class registers.</summary>
internal enum RegistrationKind
{
    JobClass,
    WorkerInitializer,
    JobExceptionHandler,
    Serializer,
}

/// <summary>A registration of the module initializer: its kind and type arguments.</summary>
internal sealed record RegistrationSpec(RegistrationKind Kind, EquatableArray<string> TypeArguments);

/// <summary>What one call site (or class) gives the generator: an interceptor, a registration, or why neither.</summary>
internal sealed record SiteModel(CallSpec? Call, RegistrationSpec? Registration, DiagnosticInfo? Diagnostic)
{
    public static SiteModel Intercepted(CallSpec call) => new(call, null, null);

    public static SiteModel Registered(RegistrationSpec registration) => new(null, registration, null);

    public static SiteModel Refused(DiagnosticInfo diagnostic) => new(null, null, diagnostic);
}
