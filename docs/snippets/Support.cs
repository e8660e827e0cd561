// Compiled with every snippet file: the application types the snippets use without showing them.
#pragma warning disable CA1812, CA1515, CA1822, CA1852
using Microsoft.Extensions.Logging;
using ProcessPools;

public sealed record ResizeResult(int Width, int Height);

public interface IImageCodec
{
    Task<ResizeResult> ResizeAsync(string path, int width, CancellationToken ct);
}

public sealed class SkiaCodec : IImageCodec
{
    public Task<ResizeResult> ResizeAsync(string path, int width, CancellationToken ct) => Task.FromResult(new ResizeResult(width, width));
}

public sealed class CacheOptions
{
    public string Path { get; set; } = "cache.bin";
}

public interface ICache
{
    Task LoadAsync(string path, CancellationToken ct);
}

public interface IErrorTracker
{
    ValueTask CaptureAsync(Exception exception, string jobName, IReadOnlyList<object?> arguments);
}

public sealed class ProgressBar
{
    public double Value { get; set; }
}

public static partial class Snippets
{
    public static void Render(MapProgress progress) => Console.WriteLine(progress);
}
