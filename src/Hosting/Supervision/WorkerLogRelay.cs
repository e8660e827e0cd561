using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ProcessPools.Protocol;
using ProcessPools.Telemetry;

namespace ProcessPools.Supervision;

/// <summary>
/// Writes what a worker logs into the application's logging: its <c>ILogger</c> entries (sent over the
/// channel) under their own category and level, with the worker in scope; and the lines it prints on its
/// standard output and error, which also feed the tail quoted when it dies.
/// </summary>
internal sealed class WorkerLogRelay(SupervisorContext context, int workerId)
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);
    private KeyValuePair<string, object?>[]? _scope;

    /// <summary>The last lines of the worker's standard error.</summary>
    public StandardErrorTail StandardError { get; } = new();

    /// <summary>The worker's pid, for the scope of its entries; set once it is launched.</summary>
    public int ProcessId { get; set; }

    public void Write(LogEntry entry)
    {
        var logger = _loggers.GetOrAdd(entry.Category, static (category, factory) => factory.CreateLogger(category), context.LoggerFactory);
        var level = (LogLevel)Math.Clamp(entry.Level, 0, 5);
        if (!logger.IsEnabled(level))
        {
            return;
        }

        _scope ??= [new("ProcessPool.Pool", context.PoolName), new("ProcessPool.WorkerId", workerId), new("ProcessPool.ProcessId", ProcessId)];
        using (logger.BeginScope(_scope))
        {
            var message = entry.Exception is null ? entry.Message : $"{entry.Message}{Environment.NewLine}{entry.Exception}";
            logger.Log(level, new EventId(entry.EventId, entry.EventName), message, null, static (text, _) => text);
        }
    }

    public void OnStandardOutput(object sender, System.Diagnostics.DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            Log.WorkerOutput(context.Logger, context.PoolName, workerId, line);
        }
    }

    public void OnStandardError(object sender, System.Diagnostics.DataReceivedEventArgs e)
    {
        StandardError.Add(e.Data);
        if (e.Data is { } line)
        {
            Log.WorkerErrorOutput(context.Logger, context.PoolName, workerId, line);
        }
    }
}
