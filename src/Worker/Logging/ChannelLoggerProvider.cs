using Microsoft.Extensions.Logging;
using ProcessPools.Channels;
using ProcessPools.Protocol;

namespace ProcessPools.Worker.Logging;

/// <summary>
/// The worker's logging: every entry goes to the parent over the channel, where it is logged with its
/// category and level in the application's own logging, with the worker's id and pid in scope. The
/// worker's configuration (the shared appsettings.json) filters what is sent.
/// </summary>
[ProviderAlias("ProcessPoolParent")]
internal sealed class ChannelLoggerProvider(FrameWriter writer) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new ChannelLogger(categoryName, writer);

    public void Dispose()
    {
    }

    private sealed class ChannelLogger(string category, FrameWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var entry = new LogEntry(category, (int)logLevel, eventId.Id, eventId.Name, formatter(state, exception), exception?.ToString());
            writer.TryWrite(new OutgoingFrame(FrameType.Log, 0, LogPayload.Encode(entry)));
        }
    }
}
