using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using ProcessPools.Channels;
using ProcessPools.Jobs;
using ProcessPools.Protocol;
using ProcessPools.Worker;

namespace ProcessPools.Supervision;

/// <summary>A started worker process and the parent's ends of its two pipes.</summary>
/// <param name="Process">The worker process.</param>
/// <param name="ToChild">The channel to the worker.</param>
/// <param name="FromChild">The channel from the worker.</param>
/// <param name="Containment">Keeps the worker's process tree together (<see cref="WorkerContainment"/>).</param>
/// <param name="ContainmentFailure">Why the worker could not be contained, when it could not.</param>
internal sealed record LaunchedWorker(Process Process, Stream ToChild, Stream FromChild, WorkerContainment Containment, string? ContainmentFailure)
{
    /// <summary>The capacity of the pipe to the worker, grown for its first large frame; null where the OS cannot grow it.</summary>
    public PipeCapacity? ToChildCapacity { get; init; }

    /// <summary>The capacity of the pipe from the worker, grown for its first large frame; null where the OS cannot grow it.</summary>
    public PipeCapacity? FromChildCapacity { get; init; }
}

/// <summary>
/// Starts worker processes: <c>dotnet exec</c> of ProcessPool.Worker.dll with the application's own
/// deps.json and runtimeconfig.json, so the child loads the same assemblies (the way
/// Microsoft.DotNet.RemoteExecutor does it), under <c>dotnet run</c>, <c>dotnet test</c> and a published app.
/// </summary>
internal sealed record WorkerLauncher
{
    // Pipes and process starts are serialized: a child started while another child's inheritable pipe
    // ends are still open in this process would inherit them, and then hold a crashed sibling's pipe open.
    private static readonly Lock LaunchGate = new();

    private readonly string _host;
    private readonly IReadOnlyList<string> _arguments;

    private WorkerLauncher(string host, IReadOnlyList<string> arguments)
    {
        _host = host;
        _arguments = arguments;
    }

    /// <summary>The first statement <c>Main</c> needs when the application is relaunched as its own worker.</summary>
    public const string EntryPointHook = "if (ProcessPools.Worker.WorkerEntryPoint.IsWorkerProcess) return await ProcessPools.Worker.WorkerEntryPoint.RunAsync();";

    /// <summary>The launch mode <see cref="WorkerLaunchMode.Auto"/> stands for in this application.</summary>
    public WorkerLaunchMode Mode { get; private init; }

    /// <summary>Works out how to launch a worker of this application.</summary>
    /// <exception cref="ProcessPoolException">A file the launch needs is missing.</exception>
    public static WorkerLauncher ForCurrentApplication(WorkerLaunchMode mode)
    {
        if (WorkerEntryPoint.IsWorkerProcess)
        {
            // This process is a pool's worker, relaunched from the application, whose Main did not hand over: it
            // must not start a pool of its own (whose workers would do the same). The parent reports the exit
            // code with the fix; an exception here would only show as an unhandled crash in relayed logs.
            Console.Error.WriteLine($"ProcessPool: this process was started as a worker but Main did not hand over. First statement of Main: {EntryPointHook}");
            Environment.Exit(WorkerExitCode.EntryPointNotHandedOver);
        }

        if (mode == WorkerLaunchMode.Auto)
        {
            mode = CanRunWorkerAssembly() ? WorkerLaunchMode.WorkerAssembly : WorkerLaunchMode.ApplicationEntryPoint;
        }

        return mode == WorkerLaunchMode.ApplicationEntryPoint ? ForEntryPoint() with { Mode = mode } : ForWorkerAssembly() with { Mode = mode };
    }

    /// <summary>
    /// Whether workers can be <c>dotnet exec ProcessPool.Worker.dll</c>: the application is framework-dependent
    /// (its runtime is not in its own folder), not single-file (its assemblies have paths), and a dotnet host exists.
    /// </summary>
    private static bool CanRunWorkerAssembly()
    {
        var worker = AssemblyLocation.Of(typeof(WorkerEntryPoint).Assembly);
        var runtime = AssemblyLocation.Of(typeof(object).Assembly);
        if (!string.IsNullOrEmpty(worker) && !File.Exists(worker))
        {
            worker = null;
        }

        var runtimeDirectory = string.IsNullOrEmpty(runtime) ? null : Path.GetDirectoryName(runtime);
        return LaunchPlan.AutoMode(worker, runtimeDirectory, AppContext.BaseDirectory, TryFindDotnetHost() is not null, HostPlatform.Current) == WorkerLaunchMode.WorkerAssembly;
    }

    private static WorkerLauncher ForEntryPoint()
    {
        var processPath = Environment.ProcessPath
            ?? throw new ProcessPoolException("The path of this process's executable is unknown, so LaunchMode ApplicationEntryPoint cannot relaunch it.");
        var entry = System.Reflection.Assembly.GetEntryAssembly() is { } entryAssembly ? AssemblyLocation.Of(entryAssembly) : null;
        var (program, arguments) = LaunchPlan.Relaunch(processPath, entry is not null && File.Exists(entry) ? entry : null, HostPlatform.Current);
        return new WorkerLauncher(program, arguments
            ?? throw new ProcessPoolException("The entry assembly of this process was not found, so LaunchMode ApplicationEntryPoint cannot relaunch it."));
    }

    private static WorkerLauncher ForWorkerAssembly()
    {
        var workerPath = AssemblyLocation.Of(typeof(WorkerEntryPoint).Assembly);
        if (string.IsNullOrEmpty(workerPath) || !File.Exists(workerPath))
        {
            throw new ProcessPoolException(
                "ProcessPool.Worker.dll was not found beside the application, so LaunchMode WorkerAssembly cannot start a worker. This looks like a single-file or " +
                "Native AOT application: use LaunchMode Auto (the default) or ApplicationEntryPoint, with this first statement in Main: " + EntryPointHook);
        }

        // The host joins the app's and the frameworks' deps files with ';' on every OS (not Path.PathSeparator):
        // measured on Linux, "app.deps.json;.../Microsoft.AspNetCore.App.deps.json;...".
        var depsFile = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var arguments = new List<string> { "exec" };
        if (depsFile is not null && File.Exists(depsFile))
        {
            arguments.AddRange(["--depsfile", depsFile]);
            var runtimeConfig = depsFile.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase)
                ? string.Concat(depsFile.AsSpan(0, depsFile.Length - ".deps.json".Length), ".runtimeconfig.json")
                : null;
            if (runtimeConfig is not null && File.Exists(runtimeConfig))
            {
                arguments.AddRange(["--runtimeconfig", runtimeConfig]);
            }
        }

        arguments.Add(workerPath);
        return new WorkerLauncher(FindDotnetHost(), arguments);
    }

    public LaunchedWorker Launch(
        int maxMessageSize,
        IEnumerable<KeyValuePair<string, string>> environment,
        string workingDirectory,
        Action<string?> onOutput,
        Action<string?> onError,
        EventHandler onExited)
    {
        var start = new ProcessStartInfo(_host)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A worker gets the app's runtimeconfig.json, and with it an ASP.NET Core app's Server GC: a heap per
        // core in every worker. Workstation GC suits a worker; the application can still ask otherwise.
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.Environment[WorkerEnvironment.Marker] = "1";
        start.Environment[WorkerEnvironment.ParentProcessId] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment[WorkerEnvironment.MaxMessageSize] = maxMessageSize.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.Exited += onExited;

        lock (LaunchGate)
        {
            var toChild = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
            var fromChild = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
            try
            {
                start.Environment[WorkerEnvironment.InputHandle] = toChild.GetClientHandleAsString();
                start.Environment[WorkerEnvironment.OutputHandle] = fromChild.GetClientHandleAsString();
                process.Start();
            }
            catch
            {
                toChild.Dispose();
                fromChild.Dispose();
                process.Dispose();
                throw;
            }
            finally
            {
                // Only the child may hold its ends: then a dead child's pipe reports end-of-file here.
                toChild.DisposeLocalCopyOfClientHandle();
                fromChild.DisposeLocalCopyOfClientHandle();
            }

            // Read in bounded lines, not with BeginOutputReadLine: a line is kept whole there, however long.
            BoundedLines.Start(process.StandardOutput.BaseStream, onOutput, $"ProcessPool worker {process.Id} stdout");
            BoundedLines.Start(process.StandardError.BaseStream, onError, $"ProcessPool worker {process.Id} stderr");

            // A worker reads nothing from the console; an empty stdin keeps a stray Console.ReadLine from blocking.
            process.StandardInput.Close();
            var containment = WorkerContainment.For(process, HostPlatform.Current, out var failure);
            return new LaunchedWorker(process, toChild, fromChild, containment, failure)
            {
                ToChildCapacity = PipeCapacity.For(toChild.SafePipeHandle, HostPlatform.Current),
                FromChildCapacity = PipeCapacity.For(fromChild.SafePipeHandle, HostPlatform.Current),
            };
        }
    }

    private static string FindDotnetHost() =>
        TryFindDotnetHost() ?? throw new ProcessPoolException(
            "The dotnet host was not found (looked beside the runtime and in DOTNET_HOST_PATH), so LaunchMode WorkerAssembly cannot start a worker. " +
            "This looks like a self-contained application: use LaunchMode Auto (the default) or ApplicationEntryPoint, with this first statement in Main: " + EntryPointHook);

    private static string? TryFindDotnetHost()
    {
        var current = Environment.ProcessPath;
        var executable = LaunchPlan.HostName(HostPlatform.Current);
        if (current is not null && LaunchPlan.IsHost(current, HostPlatform.Current))
        {
            return current;
        }

        // An app started by its apphost: the runtime in use sits at <root>/shared/Microsoft.NETCore.App/<version>/.
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var candidate = Path.Combine(Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..")), executable);
        if (File.Exists(candidate))
        {
            return candidate;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath) ? hostPath : null;
    }
}
