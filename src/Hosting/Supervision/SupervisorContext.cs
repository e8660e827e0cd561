using Microsoft.Extensions.Logging;
using ProcessPools.Protocol;
using ProcessPools.Telemetry;

namespace ProcessPools.Supervision;

/// <summary>What every worker of one pool shares: its settings, how it is launched, its clock, logging and telemetry.</summary>
internal sealed class SupervisorContext(
    string poolName,
    ProcessPoolOptions options,
    WorkerLauncher launcher,
    WorkerSetup setup,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    PoolTelemetry telemetry,
    PoolLifecycle lifecycle)
{
    /// <summary>The pool's name as messages and logs show it ('default' for the default pool); the setup carries the name itself.</summary>
    public string PoolName { get; } = poolName;

    public ProcessPoolOptions Options { get; } = options;

    public WorkerLauncher Launcher { get; } = launcher;

    /// <summary>The setup every worker gets, with its own worker id.</summary>
    public WorkerSetup Setup { get; } = setup;

    public TimeProvider TimeProvider { get; } = timeProvider;

    /// <summary>The parent's logging, where the workers' own log entries are written too.</summary>
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    public ILogger Logger { get; } = loggerFactory.CreateLogger(Log.Category);

    public PoolTelemetry Telemetry { get; } = telemetry;

    public PoolLifecycle Lifecycle { get; } = lifecycle;

    /// <summary>Closed while an operator has drained the pool: workers take no queued job until it opens.</summary>
    public DispatchGate DispatchGate { get; } = new();

    private int _containmentWarned;
    private int _sharedMemoryWarned;

    /// <summary>Logs, once per pool, that a large message went through the pipe because no shared-memory segment could be made.</summary>
    public void WarnSharedMemoryUnavailable(int bytes, string location, string reason)
    {
        if (Interlocked.Exchange(ref _sharedMemoryWarned, 1) == 0)
        {
            Log.SharedMemoryUnavailable(Logger, PoolName, bytes, location, reason);
        }
    }

    /// <summary>Logs, once per pool, that a worker runs uncontained and why: the pool works on without it.</summary>
    public void WarnUncontained(int processId, string reason)
    {
        if (Interlocked.Exchange(ref _containmentWarned, 1) == 0)
        {
            Log.WorkerUncontained(Logger, PoolName, processId, reason);
        }
    }
}
