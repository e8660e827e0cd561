using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ProcessPools.Benchmarks;

/// <summary>
/// How fast failures are noticed: a worker killed mid-job (until its caller gets the lost-worker exception) and a
/// parent killed with SIGKILL (until its orphaned workers have exited). The pool host for the second is this
/// program, started again with <see cref="HostVariable"/> set.
/// </summary>
internal static class CrashProbe
{
    private const string HostVariable = "PROCESSPOOL_BENCH_POOL_HOST";

    public static bool IsPoolHost => Environment.GetEnvironmentVariable(HostVariable) is not null;

    /// <summary>
    /// The pool host: starts a pool of 2, prints its workers' pids, and waits to be killed; should the harness
    /// die first, its standard input ends and the host closes its pool and exits instead of lingering.
    /// </summary>
    public static async Task<int> RunPoolHostAsync()
    {
        await using var pool = await BenchPools.StartAsync(o => o.Processes = 2);
        Console.WriteLine(string.Join(' ', (await pool.GetStatusAsync()).Workers.Select(w => w.ProcessId)));
        await Console.In.ReadToEndAsync();
        return 0;
    }

    /// <summary>Milliseconds from SIGKILL of a worker running a job to its caller's <see cref="WorkerLostException"/>.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Not run in the Native AOT build (Workloads.CrashAsync): its job reports progress, which only the reflection path binds.")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Not run in the Native AOT build (Workloads.CrashAsync): its job reports progress, which only the reflection path binds.")]
    public static async Task<double> KilledWorkerToFailedJobAsync(IProcessPool pool)
    {
        var running = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
#pragma warning disable PP0012 // reports progress, so named by reflection: this probe is not run in the Native AOT build (Workloads.CrashAsync)
        var job = pool.ApplyAsync(BenchJobs.HoldAsync, new Reporter(running));
#pragma warning restore PP0012
        var pid = await running.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(pid).Kill();
        try
        {
            await job.WaitAsync(TimeSpan.FromSeconds(60));
            throw new InvalidOperationException("The held job answered although its worker was killed.");
        }
        catch (WorkerLostException)
        {
            return clock.Elapsed.TotalMilliseconds;
        }
    }

    /// <summary>Milliseconds from SIGKILL of a pool's parent process until both its workers have exited.</summary>
    public static async Task<double> KilledParentToOrphansGoneAsync()
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = true };
        start.ArgumentList.Add(typeof(CrashProbe).Assembly.Location);
        start.Environment[HostVariable] = "1";
        using var host = Process.Start(start)!;
        var line = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))
            ?? throw new InvalidOperationException("The pool host ended before printing its workers.");
        // Process.WaitForExitAsync polls a process that is not our child about once a second or two (measured
        // here: 1.3-1.7 s for workers gone in 12-22 ms); a pidfd turns readable the moment the process exits.
        var exits = line.Split(' ').Select(pid => ProcessExit.Open(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var clock = Stopwatch.StartNew();
        host.Kill();
        await Task.WhenAll(exits.Select(e => e.WaitAsync(TimeSpan.FromSeconds(60))));
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// A process's exit as an event (a Linux pidfd), for processes that are not this one's children. Where there
    /// is no pidfd (another OS, a sandbox that forbids the call), <see cref="Process.WaitForExitAsync"/> stands
    /// in: correct, but it polls, so the figure is then coarse (seconds).
    /// </summary>
    private sealed class ProcessExit(int descriptor, Process? fallback)
    {
        public static ProcessExit Open(int pid)
        {
            var descriptor = OperatingSystem.IsLinux() ? (int)NativeMethods.Syscall(NativeMethods.PidFdOpen, pid, 0) : -1;
            if (descriptor >= 0)
            {
                return new ProcessExit(descriptor, null);
            }

            Console.WriteLine($"  (no pidfd for {pid}: timed with Process.WaitForExitAsync, which polls; the figure is coarse)");
            return new ProcessExit(-1, Process.GetProcessById(pid));
        }

        /// <summary>Blocks a dedicated thread in poll(2) until the pidfd turns readable, then closes it.</summary>
        public Task WaitAsync(TimeSpan timeout) => fallback is not null ? WaitForFallbackAsync(fallback, timeout) : Task.Factory.StartNew(
            () =>
            {
                try
                {
                    var fds = new[] { new NativeMethods.PollFd { Fd = descriptor, Events = NativeMethods.PollIn } };
                    if (NativeMethods.Poll(fds, 1, (int)timeout.TotalMilliseconds) <= 0)
                    {
                        throw new TimeoutException($"A worker was still running {timeout} after its parent was killed.");
                    }
                }
                finally
                {
                    _ = NativeMethods.Close(descriptor);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        private static async Task WaitForFallbackAsync(Process process, TimeSpan timeout)
        {
            using (process)
            {
                await process.WaitForExitAsync().WaitAsync(timeout).ConfigureAwait(false);
            }
        }
    }

    private static class NativeMethods
    {
        public const long PidFdOpen = 434; // x86_64 and arm64 alike
        public const short PollIn = 1;

        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern long Syscall(long number, int pid, uint flags);

        [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Poll([In, Out] PollFd[] fds, ulong count, int timeoutMilliseconds);

        [DllImport("libc", EntryPoint = "close")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Close(int descriptor);
    }

    private sealed class Reporter(TaskCompletionSource<int> running) : IProgress<int>
    {
        public void Report(int value) => running.TrySetResult(value);
    }
}
