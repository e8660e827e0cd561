using System.IO.Pipes;
using System.Runtime.InteropServices;
using ProcessPools.Protocol;
using ProcessPools.Worker.Execution;
using ProcessPools.Worker.Hosting;

namespace ProcessPools.Worker;

/// <summary>
/// The worker process's entry point. <c>ProcessPool.Worker.dll</c> calls it from its own <c>Main</c>.
/// </summary>
public static class WorkerEntryPoint
{
    /// <summary>Gets whether this process was launched by a process pool as one of its workers.</summary>
    public static bool IsWorkerProcess => Environment.GetEnvironmentVariable(WorkerEnvironment.Marker) is { Length: > 0 };

    /// <summary>Runs the worker until its parent shuts it down or goes away; returns the exit code.</summary>
    public static async Task<int> RunAsync()
    {
        var input = Environment.GetEnvironmentVariable(WorkerEnvironment.InputHandle);
        var output = Environment.GetEnvironmentVariable(WorkerEnvironment.OutputHandle);
        var parentId = Environment.GetEnvironmentVariable(WorkerEnvironment.ParentProcessId);
        var maxMessageSize = int.TryParse(Environment.GetEnvironmentVariable(WorkerEnvironment.MaxMessageSize), System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit > 0
            ? limit
            : WorkerEnvironment.DefaultMaxMessageSize;
        if (input is null || output is null || !IsWorkerProcess)
        {
            await Console.Error.WriteLineAsync(
                "ProcessPool.Worker is started by a process pool, not by hand: its channel and token come through the environment.").ConfigureAwait(false);
            return WorkerExitCode.NotStartedByPool;
        }

        var debuggerWait = Environment.GetEnvironmentVariable(WorkerEnvironment.WaitForDebugger);
        var sharedMemory = Channels.SharedMemoryPlan.Parse(Environment.GetEnvironmentVariable(WorkerEnvironment.SharedMemory));

        // The bootstrap variables must not leak into processes a job starts.
        foreach (var name in WorkerEnvironment.All)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        ApplicationAssemblies.EnableFallback();
        await WaitForDebuggerAsync(debuggerWait).ConfigureAwait(false);

        // The parent reads a worker's standard output and error as UTF-8; a Windows console writes its OEM code page
        // unless told otherwise, which garbled every non-ASCII line.
        try
        {
            Console.OutputEncoding = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        }
        catch (IOException)
        {
            // No console to set: the writers keep their encoding.
        }

        // Unix: a process group of its own, which the processes its jobs start join (the parent ends it when this dies).
        ProcessGroup.Lead();

        // A service manager's stop (systemd sends SIGTERM to the whole control group) and a SIGINT sent to the
        // worker reach it too; the parent drains them gracefully, or they exit when its channel closes. Seen here:
        // without this, SIGTERM to the group lost the jobs in flight. (Ctrl+C in a terminal signals the terminal's
        // foreground process group, which a worker, leading its own, is no longer part of.)
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, static context => context.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, static context => context.Cancel = true);

        // Not disposed: the reader thread may still be blocked in a read on the input, and on Linux disposing
        // a pipe stream under a blocked read waits for that read (seen here: a worker that finished its work
        // hung in exit until its parent killed it). The process ends right after the session; the OS closes both.
#pragma warning disable CA2000
        var fromParent = new AnonymousPipeClientStream(PipeDirection.In, input);
        var toParent = new AnonymousPipeClientStream(PipeDirection.Out, output);
#pragma warning restore CA2000
        CloseOnExec.Set(fromParent.SafePipeHandle);
        CloseOnExec.Set(toParent.SafePipeHandle);
        OwnChannel.Opened(input, output);
        _ = int.TryParse(parentId, System.Globalization.CultureInfo.InvariantCulture, out var parentProcessId);
        var session = new WorkerSession(fromParent, toParent, parentProcessId, maxMessageSize, TimeProvider.System, sharedMemory);
        var exitCode = await session.RunAsync(WorkerHostBuilder.BuildAsync).ConfigureAwait(false);
        if (session.ParentGone)
        {
            // Nobody will read what running jobs produce; a job's foreground thread must not keep the process alive,
            // nor may a process a job started outlive the pool.
            ProcessGroup.EndAll();
            Environment.Exit(exitCode);
        }

        return exitCode;
    }

    /// <summary>
    /// WaitForDebugger: before its host is built, the worker waits (bounded) for a debugger to attach, so that a job's
    /// breakpoints are hit from its first call. There is no event for an attach: it is checked every 100 ms.
    /// </summary>
    private static async Task WaitForDebuggerAsync(string? seconds)
    {
        if (!double.TryParse(seconds, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var limit) || limit <= 0)
        {
            return;
        }

        await Console.Error.WriteLineAsync($"ProcessPool worker {Environment.ProcessId}: waiting up to {limit} s for a debugger to attach (WaitForDebugger).").ConfigureAwait(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!System.Diagnostics.Debugger.IsAttached && clock.Elapsed.TotalSeconds < limit)
        {
            await Task.Delay(100).ConfigureAwait(false);
        }
    }
}
