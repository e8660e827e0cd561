using Microsoft.Extensions.Logging.Abstractions;
using ProcessPools.Dispatch;
using ProcessPools.Supervision;

namespace ProcessPools;

/// <summary>
/// One job in a dedicated, fresh worker process: the counterpart of aiomultiprocess's <c>Process</c>
/// (completion only) and, as <see cref="WorkerProcess{TResult}"/>, of its <c>Worker</c> (with the result).
/// Start it now, await it later; the process exits when the job is done.
/// </summary>
public partial class WorkerProcess : IAsyncDisposable
{
    private readonly PoolEngine _engine;
    private readonly WorkerConnection _worker;

    private protected WorkerProcess(PoolEngine engine, Task completion)
    {
        _engine = engine;
        _worker = engine.FirstWorker!;
        Completion = completion;
    }

    /// <summary>Gets the worker's process id.</summary>
    public int ProcessId => _worker.ProcessId;

    /// <summary>Gets the job's completion: faults with the job's exception, or a <see cref="WorkerLostException"/> when the process died or was killed.</summary>
    public Task Completion { get; }

    /// <summary>Gets the exit code, once the process has exited; otherwise <see langword="null"/>.</summary>
    public int? ExitCode => _worker.ExitCode;

    /// <summary>Gets whether the process has exited.</summary>
    public bool HasExited => _worker.Exited.IsCompleted;

    /// <summary>Waits for the process to exit (after its job, or a kill) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _worker.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _worker.ExitCode ?? -1;
    }

    /// <summary>Kills the process; a job still running fails with a <see cref="WorkerLostException"/>.</summary>
    public Task KillAsync() => _engine.TerminateAsync("was killed: its WorkerProcess was killed (KillAsync)");

    /// <summary>Waits for the job and the process to end (killing it after <see cref="ProcessPoolOptions.ShutdownTimeout"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _engine.CloseAsync().ConfigureAwait(false);

        // No finalizer here, but the class is open (WorkerProcess<TResult> derives from it): CA1816 asks that a derived
        // type that adds one need not re-implement disposal.
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Starts a worker for one job whose target is already made: the <c>StartAsync</c> overloads call it with a target
    /// made by reflection, the source generator's interceptors with the one it generated.
    /// </summary>
    /// <param name="target">The job.</param>
    /// <param name="arguments">The job's sent arguments.</param>
    /// <param name="configure">Sets other options of the worker.</param>
    /// <param name="configureWorker">Adds to the worker's own host.</param>
    /// <param name="cancellationToken">Abandons the start, or cancels the job once started.</param>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static async Task<WorkerProcess<TResult>> StartGeneratedAsync<TResult>(
        JobTarget target, object?[] arguments, Action<ProcessPoolOptions>? configure, Action<Microsoft.Extensions.DependencyInjection.IProcessPoolBuilder>? configureWorker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        var options = new ProcessPoolOptions();
        configure?.Invoke(options);
        options.Processes = 1;
        options.QueueCount = 1;
        options.ChildConcurrency = 1;
        options.MaxTasksPerChild = 1;

        // What the pool would refuse at the call (a request once it found the job class), refused before a process starts
        // for it. A missing serializer is the options check's to report.
        if (target.Kind != JobTargetKind.Request && options.Serializer is { } serializer)
        {
            Transport.JobPayloads.ThrowIfResultDoesNotFit<TResult>(target);
            new Transport.ReadBackCheck(serializer).ThrowIfUnreadable(target);
        }

        var engine = ProcessPool.Create("worker-process", options, configureWorker, NullLoggerFactory.Instance);
        engine.ReplacesWorkers = false;
        await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        Task<TResult> result;
        var dispatched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            result = engine.InvokeAsync<TResult>(target, arguments, options: null, dispatched, cancellationToken);
        }
        catch
        {
            await engine.TerminateAsync("was killed: its job could not be handed to it").ConfigureAwait(false);
            throw;
        }

        // Return once the job is in the worker's hands (or already over), so a kill from here on hits the running job.
        await Task.WhenAny(dispatched.Task, result).ConfigureAwait(false);

        // Nothing more will come: the worker exits once its one job is done.
        _ = engine.CloseAsync(CancellationToken.None);
        return new WorkerProcess<TResult>(engine, result);
    }
}

/// <summary>A <see cref="WorkerProcess"/> whose job returns a result: await it, or its <see cref="Result"/>.</summary>
/// <typeparam name="TResult">The job's result type.</typeparam>
public sealed class WorkerProcess<TResult> : WorkerProcess
{
    internal WorkerProcess(PoolEngine engine, Task<TResult> result)
        : base(engine, result) => Result = result;

    /// <summary>Gets the job's result.</summary>
    public Task<TResult> Result { get; }

    /// <summary>Gets an awaiter for the job's result.</summary>
    public System.Runtime.CompilerServices.TaskAwaiter<TResult> GetAwaiter() => Result.GetAwaiter();
}
