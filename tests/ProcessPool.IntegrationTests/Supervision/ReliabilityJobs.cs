using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ProcessPools.IntegrationTests;

/// <summary>Jobs that misbehave on purpose, run in worker processes.</summary>
public static class ReliabilityJobs
{
    /// <summary>Starts a process from inside a job, as a job shelling out to a tool does, and returns its pid.</summary>
    public static Task<int> StartSleepAsync()
    {
        using var sleep = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        return Task.FromResult(sleep.Id);
    }

    /// <summary>
    /// Which ends of this worker's channel a process a job starts would hold: on Unix a started <c>bash</c> (whose
    /// redirections take any descriptor number, unlike dash's) duplicates each one, moving no byte, and fails on a closed one; on Windows, whether each handle is
    /// inheritable (Process.Start passes every inheritable handle on, and no other).
    /// </summary>
    public static Task<string[]> ChannelEndsAStartedProcessWouldHoldAsync()
    {
        var ends = new List<string>();
        foreach (var (end, redirect) in new[] { ("input", "<&"), ("output", ">&") })
        {
            var handle = long.Parse(OwnChannel.Handle(end), CultureInfo.InvariantCulture);
            if (OperatingSystem.IsWindows())
            {
                if (GetHandleInformation((nint)handle, out var flags) && (flags & 1) != 0)
                {
                    ends.Add(end);
                }

                continue;
            }

            using var probe = Process.Start(new ProcessStartInfo("bash", ["-c", $"true {redirect}{handle}"]) { UseShellExecute = false, RedirectStandardError = true })!;
            probe.StandardError.ReadToEnd();
            probe.WaitForExit();
            if (probe.ExitCode == 0)
            {
                ends.Add(end);
            }
        }

        return Task.FromResult(ends.ToArray());
    }

    /// <summary>Has this worker send its parent a raw frame among its own, then waits to be stopped (its worker's death ends it).</summary>
    public static async Task<int> SendRawFrameAsync(byte type, long jobId, byte[] payload)
    {
        Assert.True(OwnChannel.WriteRaw(type, jobId, payload), "the worker's channel took the frame");
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return 0;
    }

    /// <summary>The worker's environment as its jobs see it, as NAME=value lines.</summary>
    public static Task<string[]> EnvironmentAsync() =>
        Task.FromResult(Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}").ToArray());

    /// <summary>The capacity in bytes of this worker's channel pipes, input and output (Linux's <c>F_GETPIPE_SZ</c>).</summary>
    public static Task<int[]> ChannelPipeSizesAsync() =>
        Task.FromResult(new[] { "input", "output" }.Select(end => Fcntl(int.Parse(OwnChannel.Handle(end), CultureInfo.InvariantCulture), 1032, 0)).ToArray());

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int descriptor, int command, int argument);

    [DllImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool GetHandleInformation(nint handle, out uint flags);

    /// <summary>The worker's channel seam (ProcessPools.Worker.Execution.OwnChannel), reached by name from inside a job.</summary>
    private static class OwnChannel
    {
        private static readonly Type Seam = Type.GetType("ProcessPools.Worker.Execution.OwnChannel, ProcessPool.Worker", throwOnError: true)!;

        public static string Handle(string end) =>
            (string)Seam.GetProperty(end == "input" ? "InputHandle" : "OutputHandle", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;

        public static bool WriteRaw(byte type, long jobId, byte[] payload) =>
            (bool)Seam.GetMethod("WriteRaw", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, [type, jobId, payload])!;
    }

    /// <summary>Starts a process that lives two minutes unless ended, on any OS; answers its pid.</summary>
    public static Task<int> StartLongLivedAsync()
    {
        var start = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("ping", "-n 121 127.0.0.1") { UseShellExecute = false, RedirectStandardOutput = true }
            : new ProcessStartInfo("sleep", "120") { UseShellExecute = false };
        using var process = Process.Start(start)!;
        return Task.FromResult(process.Id);
    }

    /// <summary>Ends the worker process with <paramref name="exitCode"/>, as a job that calls Environment.Exit does.</summary>
    public static Task<int> ExitAsync(int exitCode)
    {
        Environment.Exit(exitCode);
        return Task.FromResult(0);
    }

    public static Task<(int Length, long Sum)> MeasureAsync(byte[] data) => Task.FromResult((data.Length, data.Sum(b => (long)b)));

    /// <summary>Never ends and never looks at a token: only killing its worker stops it.</summary>
    public static async Task<int> IgnoreCancellationAsync(int x)
    {
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return x;
    }

    /// <summary>Sleeps without a token, then answers with its process id.</summary>
    public static async Task<int> SleepThenReturnPidAsync(int milliseconds)
    {
        await Task.Delay(milliseconds, CancellationToken.None);
        return Environment.ProcessId;
    }

    public static async Task<int> SquareSlowlyAsync(int x, CancellationToken cancellationToken)
    {
        await Task.Delay(5, cancellationToken);
        return x * x;
    }

    public static Task<int> CrashAsync(string how)
    {
        switch (how)
        {
            case "FailFast":
                Environment.FailFast("the job gave up");
                break;
            case "StackOverflow":
                return Task.FromResult(Recurse(0));
            case "BackgroundThread":
                new Thread(() => throw new InvalidOperationException("unhandled on a background thread")).Start();
                return new TaskCompletionSource<int>().Task; // never answers: the thread's exception ends the process
        }

        throw new ArgumentOutOfRangeException(nameof(how));
    }

    /// <summary>Writes binary junk to the worker's stdout and stderr, then answers.</summary>
    public static async Task<string> ScribbleAsync(int bytes)
    {
        var junk = new byte[bytes];
        new Random(1).NextBytes(junk);
        var stdout = Console.OpenStandardOutput();
        await stdout.WriteAsync(junk);
        await stdout.FlushAsync();
        var stderr = Console.OpenStandardError();
        await stderr.WriteAsync(junk);
        await stderr.FlushAsync();
        Console.Write("\0\0\0\u0013frame-like text\n");
        return "still fine";
    }

    public static Task<string> MakeStringAsync(int length) => Task.FromResult(new string('x', length));

    public static Task<string> EchoAsync(string text) => Task.FromResult(text);

    public static Task<int> IncrementAsync(int x) => Task.FromResult(x + 1);

    private static int Recurse(int depth) => Recurse(depth + 1) + (depth == int.MaxValue ? 0 : 1);
}

/// <summary>Fails the worker's start while the file named by CRASHLOOP_MARKER exists (tests create it once the pool runs).</summary>
public sealed class FailWhileMarkerExistsInitializer : IWorkerInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        File.Exists(Environment.GetEnvironmentVariable("CRASHLOOP_MARKER"))
            ? throw new InvalidOperationException("the license server is unreachable")
            : Task.CompletedTask;
}
