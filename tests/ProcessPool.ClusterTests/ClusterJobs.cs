namespace ProcessPools.ClusterTests;

/// <summary>Jobs the cluster tests send: each answers with the pid of the worker process that ran it.</summary>
public static class ClusterJobs
{
    /// <summary>The item and the worker's pid, after <paramref name="milliseconds"/>.</summary>
    public static async Task<long> TagAsync(int item, int milliseconds, CancellationToken cancellationToken)
    {
        await Task.Delay(milliseconds, cancellationToken);
        return ((long)item << 32) | (uint)Environment.ProcessId;
    }

    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);

    public static Task<int> ThrowAsync(string message) => throw new InvalidOperationException(message);

    /// <summary>Waits for its cancellation, then leaves a file behind to show the cancellation reached the worker.</summary>
    public static async Task<int> WaitForCancellationAsync(string marker, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        catch (OperationCanceledException)
        {
            await File.WriteAllTextAsync(marker, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
            throw;
        }
    }

    /// <summary>Writes <paramref name="why"/> to standard error, then ends its worker process with <paramref name="exitCode"/>.</summary>
    public static async Task<int> ExitAsync(string why, int exitCode)
    {
        await Console.Error.WriteLineAsync(why);
        await Console.Error.FlushAsync();
        Environment.Exit(exitCode);
        return 0;
    }

    /// <summary>Answers a type its caller could not read back (abstract, its derived types not named for System.Text.Json).</summary>
    public static Task<Shape> MakeShapeAsync(double side) => Task.FromResult<Shape>(new Square(side));

    public static Task<int> ReportAsync(int x, IProgress<int>? progress)
    {
        progress?.Report(x);
        return Task.FromResult(x);
    }

    public static int ItemOf(long tag) => (int)(tag >> 32);

    public static int PidOf(long tag) => (int)(tag & 0xFFFF_FFFF);
}

public abstract record Shape;

public sealed record Square(double Side) : Shape;
