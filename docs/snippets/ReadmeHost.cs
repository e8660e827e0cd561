using Microsoft.AspNetCore.Mvc;
using ProcessPools;

var builder = WebApplication.CreateBuilder(args);
// snippet: readme-host
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"))  // a hosted service owns the workers
    .ConfigureWorkerHost(static worker => worker.Services.AddHttpClient())      // each worker builds its own host
    .AddJob<ResizeJob>()                                                         // DI job class, created in the worker
    .AddWorkerInitializer<WarmCaches>()                                          // once per worker, before its first job
    .AddJobExceptionHandler<ReportFailures>();                                   // in the worker, when a job throws
builder.Services.AddProcessPool("images", builder.Configuration.GetSection("ProcessPools:Images")); // a named pool
// end snippet

// snippet: readme-host-types
public sealed class ImagesController([FromKeyedServices("images")] IProcessPool images) : ControllerBase
{
    [HttpPost] public Task<ResizeResult> Resize(ResizeRequest r, CancellationToken ct) => images.SendAsync(r, ct);
}

public sealed record ResizeRequest(string Path, int Width) : IJobRequest<ResizeResult>;   // SendAsync infers ResizeResult
public sealed class ResizeJob(IImageCodec codec) : IProcessJob<ResizeRequest, ResizeResult>
{
    public Task<ResizeResult> ExecuteAsync(ResizeRequest request, CancellationToken ct) => codec.ResizeAsync(request.Path, request.Width, ct);
}
// end snippet

public sealed class WarmCaches : IWorkerInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class ReportFailures : IJobExceptionHandler
{
    public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
