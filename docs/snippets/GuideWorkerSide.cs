using Microsoft.Extensions.Options;
using ProcessPools;

static void Register(IServiceCollection services)
{
    // snippet: guide-initializer-registration
    services.AddProcessPool(o => o.Processes = 2).AddWorkerInitializer<WarmCaches>();
    // end snippet

    // snippet: guide-handler-registration
    services.AddProcessPool(o => o.Processes = 2).AddJobExceptionHandler<ReportFailures>();
    // end snippet

    // snippet: guide-configure-worker-host
    services.AddProcessPool(o => o.Processes = 2)
        .ConfigureWorkerHost(static worker =>
        {
            worker.Services.AddHttpClient();
            worker.Services.AddSingleton<IImageCodec, SkiaCodec>();
            worker.Logging.SetMinimumLevel(LogLevel.Warning);
            worker.Configuration.AddJsonFile("worker.json", optional: true);
        })
        .AddJob<ResizeJob>();
    // end snippet
}

static async Task HandleAsync(IProcessPool pool, string path, ILogger logger)
{
    // snippet: guide-remote-exception
    try { await pool.ApplyAsync(Jobs.ParseAsync, path); }
    catch (RemoteJobException e) when (e.Is<FormatException>())   // matches derived types, like catch (T)
    {
        logger.LogWarning("{Type}: {Message}\n{Stack}", e.RemoteType, e.RemoteMessage, e.RemoteStackTrace);
    }
    // end snippet
}

// snippet: guide-initializer
public sealed class WarmCaches(IOptions<CacheOptions> options, ICache cache) : IWorkerInitializer
{
    public Task InitializeAsync(CancellationToken ct) => cache.LoadAsync(options.Value.Path, ct);
}
// end snippet

// snippet: guide-handler
public sealed class ReportFailures(IErrorTracker tracker) : IJobExceptionHandler
{
    public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken ct) =>
        tracker.CaptureAsync(context.Exception, context.JobName, context.Arguments);
}
// end snippet

public sealed record ResizeRequest(string Path, int Width) : IJobRequest<ResizeResult>;

public sealed class ResizeJob(IImageCodec codec) : IProcessJob<ResizeRequest, ResizeResult>
{
    public Task<ResizeResult> ExecuteAsync(ResizeRequest request, CancellationToken ct) => codec.ResizeAsync(request.Path, request.Width, ct);
}

public static class Jobs
{
    public static Task<int> ParseAsync(string path) => Task.FromResult(int.Parse(File.ReadAllText(path), System.Globalization.CultureInfo.InvariantCulture));
}
