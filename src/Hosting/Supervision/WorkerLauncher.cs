using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using ProcessPools.Protocol;
using ProcessPools.Worker;

namespace ProcessPools.Supervision;

/// <summary>A started worker process and the parent's ends of its two pipes.</summary>
internal sealed record LaunchedWorker(Process Process, Stream ToChild, Stream FromChild);

/// <summary>
/// Starts worker processes: <c>dotnet exec</c> of ProcessPool.Worker.dll with the application's own
/// deps.json and runtimeconfig.json, so the child loads the same assemblies (the way
/// Microsoft.DotNet.RemoteExecutor does it), under <c>dotnet run</c>, <c>dotnet test</c> and a published app.
/// </summary>
internal sealed class WorkerLauncher
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

    /// <summary>Works out how to launch a worker of this application.</summary>
    /// <exception cref="ProcessPoolException">A file the launch needs is missing, or this process is itself a worker that did not hand over to <see cref="WorkerEntryPoint"/>.</exception>
    public static WorkerLauncher ForCurrentApplication(WorkerLaunchMode mode)
    {
        if (WorkerEntryPoint.IsWorkerProcess)
        {
            // Without this, an application relaunched as its own worker that forgot the hook would start a
            // pool of its own, whose workers would do the same.
            throw new ProcessPoolException(
                "This process was launched as a pool's worker (LaunchMode ApplicationEntryPoint) but its Main did not hand over: " +
                "make 'if (WorkerEntryPoint.IsWorkerProcess) return await WorkerEntryPoint.RunAsync();' the first statement of Main.");
        }

        return mode == WorkerLaunchMode.ApplicationEntryPoint ? ForEntryPoint() : ForWorkerAssembly();
    }

    private static WorkerLauncher ForEntryPoint()
    {
        var processPath = Environment.ProcessPath
            ?? throw new ProcessPoolException("The path of this process's executable is unknown, so LaunchMode ApplicationEntryPoint cannot relaunch it.");
        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (!string.Equals(Path.GetFileName(processPath), executable, StringComparison.OrdinalIgnoreCase))
        {
            return new WorkerLauncher(processPath, []); // an apphost or a single-file application
        }

        // 'dotnet app.dll': run the same entry assembly again.
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
        if (string.IsNullOrEmpty(entry) || !File.Exists(entry))
        {
            throw new ProcessPoolException("The entry assembly of this process was not found, so LaunchMode ApplicationEntryPoint cannot relaunch it.");
        }

        return new WorkerLauncher(processPath, [entry]);
    }

    private static WorkerLauncher ForWorkerAssembly()
    {
        var workerPath = typeof(WorkerEntryPoint).Assembly.Location;
        if (string.IsNullOrEmpty(workerPath) || !File.Exists(workerPath))
        {
            throw new ProcessPoolException(
                "ProcessPool.Worker.dll was not found beside the application (single-file or trimmed publish?). Publish the application as a framework-dependent folder.");
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
        string token,
        IEnumerable<KeyValuePair<string, string>> environment,
        string workingDirectory,
        DataReceivedEventHandler onOutput,
        DataReceivedEventHandler onError,
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

        start.Environment[WorkerEnvironment.Token] = token;
        start.Environment[WorkerEnvironment.ParentProcessId] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += onOutput;
        process.ErrorDataReceived += onError;
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

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            // A worker reads nothing from the console; an empty stdin keeps a stray Console.ReadLine from blocking.
            process.StandardInput.Close();
            return new LaunchedWorker(process, toChild, fromChild);
        }
    }

    private static string FindDotnetHost()
    {
        var current = Environment.ProcessPath;
        var executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (current is not null && string.Equals(Path.GetFileName(current), executable, StringComparison.OrdinalIgnoreCase))
        {
            return current;
        }

        // An app started by its apphost: the runtime in use sits at <root>/shared/Microsoft.NETCore.App/<version>/.
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var root = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", ".."));
        var candidate = Path.Combine(root, executable);
        if (File.Exists(candidate))
        {
            return candidate;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)
            ? hostPath
            : throw new ProcessPoolException($"The dotnet host was not found (looked beside the runtime at '{root}' and in DOTNET_HOST_PATH); worker processes need it.");
    }
}
