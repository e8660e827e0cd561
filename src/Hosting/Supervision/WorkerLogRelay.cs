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
internal sealed class WorkerLogRelay
{
    /// <summary>How long the lines of one burst are gathered before they are logged as one record.</summary>
    internal static readonly TimeSpan BurstWait = TimeSpan.FromMilliseconds(20);

    private readonly SupervisorContext _context;
    private readonly int _workerId;
    private readonly OutputBurst _errorBurst;
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);
    private KeyValuePair<string, object?>[]? _scope;

    public WorkerLogRelay(SupervisorContext context, int workerId)
    {
        _context = context;
        _workerId = workerId;
        _errorBurst = new OutputBurst(context.TimeProvider, BurstWait, output => Log.WorkerErrorOutput(context.Logger, context.PoolName, workerId, output));
    }

    /// <summary>The last lines of the worker's standard output and error, for operators.</summary>
    public Telemetry.Ring<Operations.WorkerOutputLine> Recent { get; } = new(200);

    /// <summary>The last lines of the worker's standard error.</summary>
    public StandardErrorLines StandardError { get; } = new();

    /// <summary>The worker's pid, for the scope of its entries; set once it is launched.</summary>
    public int ProcessId { get; set; }

    public void Write(LogEntry entry)
    {
        var logger = _loggers.GetOrAdd(entry.Category, static (category, factory) => factory.CreateLogger(category), _context.LoggerFactory);
        var level = (LogLevel)Math.Clamp(entry.Level, 0, 5);
        if (!logger.IsEnabled(level))
        {
            return;
        }

        _scope ??= [new("ProcessPool.Pool", _context.PoolName), new("ProcessPool.WorkerId", _workerId), new("ProcessPool.ProcessId", ProcessId)];
        using (logger.BeginScope(_scope))
        {
            var message = entry.Exception is null ? entry.Message : $"{entry.Message}{Environment.NewLine}{entry.Exception}";
            logger.Log(level, new EventId(entry.EventId, entry.EventName), message, null, static (text, _) => text);
        }
    }

    public void OnStandardOutput(string? data)
    {
        if (data is { } line)
        {
            Recent.Add(new Operations.WorkerOutputLine(_context.TimeProvider.GetUtcNow(), "stdout", line));
            Log.WorkerOutput(_context.Logger, _context.PoolName, _workerId, line);
        }
    }

    public void OnStandardError(string? data)
    {
        StandardError.Add(data);
        if (data is { } line)
        {
            Recent.Add(new Operations.WorkerOutputLine(_context.TimeProvider.GetUtcNow(), "stderr", line));
            _errorBurst.Add(line);
        }
        else
        {
            _errorBurst.Flush(); // the stream ended: the last burst goes out now, before the death is reported
        }
    }
}
