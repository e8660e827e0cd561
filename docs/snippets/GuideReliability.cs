using ProcessPools;

static async Task CallAsync(IServiceCollection services, IProcessPool pool, string path, string[] paths)
{
    // snippet: guide-retries
    services.AddProcessPool(o => o.MaxRetries = 2);                 // every job of the pool
    await pool.WithRetries(3).ApplyAsync(Jobs.ThumbnailAsync, path); // this call only
    // end snippet

    // snippet: guide-timeouts
    services.AddProcessPool(o => o.JobTimeout = TimeSpan.FromSeconds(30));          // pool default
    var text = await pool.WithTimeout(TimeSpan.FromSeconds(2)).ApplyAsync(Jobs.OcrAsync, path);
    var all = await pool.WithJobOptions(new JobOptions { Timeout = TimeSpan.FromSeconds(5), MaxRetries = 1 }).Map(Jobs.OcrAsync, paths);
    // end snippet
}

public static class Jobs
{
    public static Task ThumbnailAsync(string path) => Task.CompletedTask;

    public static Task<string> OcrAsync(string path, CancellationToken ct) => File.ReadAllTextAsync(path, ct);
}
