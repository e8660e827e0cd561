using Microsoft.Extensions.Logging;
using ProcessPools.Telemetry;

namespace ProcessPools.UnitTests.Supervision;

/// <summary>
/// Hot reload reaches the parent, not its workers: each live pool says so once, naming what changed, when the runtime
/// reports an update (the runtime calls UpdateApplication through [MetadataUpdateHandler]; here the test does).
/// </summary>
public sealed class HotReloadNoticeTests
{
    [Fact]
    public void Each_live_pool_warns_once_naming_the_updated_types_and_a_closed_pool_says_nothing()
    {
        var (images, closed) = (new ListLogger(), new ListLogger());
        using (HotReloadNotice.Track("closed", closed))
        {
        }

        using var tracked = HotReloadNotice.Track("images", images);
        HotReloadNotice.UpdateApplication([typeof(HotReloadNoticeTests)]);
        HotReloadNotice.UpdateApplication([typeof(ListLogger)]);

        var warning = Assert.Single(images.Messages);
        Assert.Contains("Pool 'images': hot reload updated ProcessPools.UnitTests.Supervision.HotReloadNoticeTests", warning, StringComparison.Ordinal);
        Assert.Contains("workers still run the code they were started with", warning, StringComparison.Ordinal);
        Assert.Contains("Ctrl+R in dotnet watch", warning, StringComparison.Ordinal);
        Assert.Empty(closed.Messages);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
