namespace ProcessPools;

/// <summary>
/// How a pool starts its worker processes: the counterpart of aiomultiprocess's start methods. All are
/// "spawn": a fresh process that loads the application's assemblies; .NET has no <c>fork</c>.
/// </summary>
public enum WorkerLaunchMode
{
    /// <summary>
    /// <see cref="WorkerAssembly"/> where it can run (a framework-dependent application with ProcessPool.Worker.dll
    /// beside it and a <c>dotnet</c> host to run it), <see cref="ApplicationEntryPoint"/> otherwise (self-contained,
    /// single-file and Native AOT applications, which then need the hook in <c>Main</c>).
    /// </summary>
    Auto,

    /// <summary>
    /// <c>dotnet exec ProcessPool.Worker.dll</c> with the application's own deps.json and runtimeconfig.json,
    /// so the worker loads the same assemblies and frameworks. Needs no change to the application; needs a
    /// framework-dependent application (the usual build, <c>dotnet run</c>, <c>dotnet test</c>).
    /// </summary>
    WorkerAssembly,

    /// <summary>
    /// The application's own executable (its apphost, or <c>dotnet app.dll</c>), whose <c>Main</c> hands over
    /// first thing: <c>if (WorkerEntryPoint.IsWorkerProcess) return await WorkerEntryPoint.RunAsync();</c>.
    /// For single-file and self-contained applications, where there is no worker assembly to run.
    /// </summary>
    ApplicationEntryPoint,
}
