using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProcessPools;

namespace WebApiSample.Jobs;

/// <summary>The images pool's worker-side set-up, referenced from Program.cs.</summary>
public static class ImagePool
{
    public const string Name = "images";

    /// <summary>Runs in each images worker before its host is built (a static method: it crosses by identity).</summary>
    public static void ConfigureWorker(IHostApplicationBuilder worker) => worker.Services.AddSingleton<BlurKernels>();
}

/// <summary>A request for the images pool: <c>IJobRequest&lt;BlurResult&gt;</c> lets callers write <c>await pool.SendAsync(request)</c>.</summary>
public sealed record BlurRequest(int Width, int Height, int Radius, int Seed) : IJobRequest<BlurResult>;

public sealed record BlurResult(int Width, int Height, int Radius, long SourceChecksum, long Checksum, double Mean, int WorkerProcessId, int WorkerId);

/// <summary>A worker-side service: box-blur weights per radius, computed once per worker.</summary>
public sealed class BlurKernels
{
    private readonly Dictionary<int, int> _divisors = [];

    public int Warmed { get; private set; }

    public void Warm(int maxRadius)
    {
        for (var r = 0; r <= maxRadius; r++)
        {
            _divisors[r] = (2 * r) + 1;
        }

        Warmed = maxRadius;
    }

    public int Divisor(int radius) => _divisors.TryGetValue(radius, out var d) ? d : (2 * radius) + 1;
}

/// <summary>Runs once in each images worker, before its first job.</summary>
public sealed partial class WarmKernelsInitializer(BlurKernels kernels, ILogger<WarmKernelsInitializer> logger) : IWorkerInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        kernels.Warm(maxRadius: 32);
        LogWarmed(logger, Environment.ProcessId);
        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "Blur kernels warmed in worker {ProcessId}")]
    private static partial void LogWarmed(ILogger logger, int processId);
}

/// <summary>
/// An image-like transform: a separable box blur over a grayscale bitmap generated from the seed.
/// A DI job class, created per job in the worker with the worker's services.
/// </summary>
public sealed class BlurJob(BlurKernels kernels, WorkerContext worker) : IProcessJob<BlurRequest, BlurResult>
{
    public Task<BlurResult> ExecuteAsync(BlurRequest argument, CancellationToken cancellationToken)
    {
        var (width, height, radius) = (argument.Width, argument.Height, argument.Radius);
        var source = new byte[width * height];
        new Random(argument.Seed).NextBytes(source);
        var horizontal = new byte[source.Length];
        var output = new byte[source.Length];
        var divisor = kernels.Divisor(radius);
        for (var y = 0; y < height; y++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var x = 0; x < width; x++)
            {
                var sum = 0;
                for (var k = -radius; k <= radius; k++)
                {
                    sum += source[(y * width) + Math.Clamp(x + k, 0, width - 1)];
                }

                horizontal[(y * width) + x] = (byte)(sum / divisor);
            }
        }

        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var sum = 0;
                for (var k = -radius; k <= radius; k++)
                {
                    sum += horizontal[(Math.Clamp(y + k, 0, height - 1) * width) + x];
                }

                output[(y * width) + x] = (byte)(sum / divisor);
            }
        }

        long sourceSum = 0, outputSum = 0;
        for (var i = 0; i < source.Length; i++)
        {
            sourceSum += source[i];
            outputSum += output[i];
        }

        return Task.FromResult(new BlurResult(
            width, height, radius, sourceSum, outputSum, (double)outputSum / output.Length, Environment.ProcessId, worker.WorkerId));
    }
}

/// <summary>Runs in the images worker whenever one of its jobs throws: logs it with the worker's own logging.</summary>
public sealed partial class LogFailedImageJobs(ILogger<LogFailedImageJobs> logger) : IJobExceptionHandler
{
    public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken)
    {
        LogFailed(logger, context.Exception, context.JobName, Environment.ProcessId);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(2, LogLevel.Error, "Image job {Job} failed in worker {ProcessId}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string job, int processId);
}
