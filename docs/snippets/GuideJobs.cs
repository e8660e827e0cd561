using System.Buffers;
using ProcessPools;

await using var pool = await ProcessPool.StartAsync();
var cancellationToken = CancellationToken.None;
// snippet: guide-bound-parameters
string page = await pool.ApplyAsync(Jobs.FetchAsync, "https://example.org", cancellationToken);
// end snippet

// snippet: guide-send
ResizeResult result = await pool.SendAsync(new ResizeRequest("a.png", 640));  // no type arguments to write
// end snippet

static async Task WriteThumbnailAsync(IProcessPool pool, string path, HttpResponse response)
{
    // snippet: guide-memory-owner-result
    using IMemoryOwner<byte> thumbnail = await pool.ApplyAsync(Images.ThumbnailAsync, path); // yours until disposed
    await response.Body.WriteAsync(thumbnail.Memory);
    // end snippet
}

static void Register(IServiceCollection services)
{
    // snippet: guide-add-job
    services.AddProcessPool(o => o.Processes = 2).AddJob<ResizeJob>();
    // end snippet
}

public static class Jobs
{
    // snippet: guide-bound-parameters-job
    public static async Task<string> FetchAsync(string url, IServiceProvider services, CancellationToken ct)
    {
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient();  // the worker's container
        return await http.GetStringAsync(url, ct);                                      // ct: the caller's cancellation
    }
    // end snippet
}

public static class Images
{
    /// <summary>Answers a block rented from the shared memory pool, handed over: the worker disposes it once sent.</summary>
    public static async Task<IMemoryOwner<byte>> ThumbnailAsync(string path)
    {
        var source = await File.ReadAllBytesAsync(path);
        var owner = MemoryPool<byte>.Shared.Rent(source.Length);
        source.CopyTo(owner.Memory);
        return owner;
    }
}

// snippet: guide-job-class
public sealed record ResizeRequest(string Path, int Width) : IJobRequest<ResizeResult>;

public sealed class ResizeJob(IImageCodec codec, ILogger<ResizeJob> logger) : IProcessJob<ResizeRequest, ResizeResult>
{
    public async Task<ResizeResult> ExecuteAsync(ResizeRequest request, CancellationToken ct)
    {
        logger.LogInformation("Resizing {Path} to {Width}", request.Path, request.Width);
        return await codec.ResizeAsync(request.Path, request.Width, ct);
    }
}
// end snippet
