using System.Diagnostics;
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
