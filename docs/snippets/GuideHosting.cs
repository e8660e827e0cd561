using Microsoft.AspNetCore.Mvc;
using ProcessPools;

var builder = WebApplication.CreateBuilder(args);
// snippet: guide-hosted
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
// end snippet
// snippet: guide-named
builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
builder.Services.AddProcessPool("images", builder.Configuration.GetSection("ProcessPools:Images")).AddJob<ResizeJob>();
// end snippet

// snippet: guide-hosted-controller
public sealed class ReportsController(IProcessPool pool) : ControllerBase
{
    [HttpGet("reports/{id}")] public Task<string> Get(int id, CancellationToken ct) => pool.ApplyAsync(Reports.RenderAsync, id, ct);
}
// end snippet

// snippet: guide-named-controller
public sealed class ImagesController([FromKeyedServices("images")] IProcessPool images) : ControllerBase
{
    [HttpPost("images/resize")] public Task<ResizeResult> Resize(ResizeRequest request, CancellationToken ct) => images.SendAsync(request, ct);
}
// end snippet

public static class Reports
{
    public static Task<string> RenderAsync(int id, CancellationToken ct) => Task.FromResult($"report {id}");
}

public sealed record ResizeRequest(string Path, int Width) : IJobRequest<ResizeResult>;

public sealed class ResizeJob(IImageCodec codec) : IProcessJob<ResizeRequest, ResizeResult>
{
    public Task<ResizeResult> ExecuteAsync(ResizeRequest request, CancellationToken ct) => codec.ResizeAsync(request.Path, request.Width, ct);
}
