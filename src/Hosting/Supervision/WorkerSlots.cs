using System.Collections.Concurrent;
using ProcessPools.Channels;
using ProcessPools.Telemetry;

namespace ProcessPools.Supervision;

/// <summary>
/// The pool's worker processes: one slot per configured process, kept filled. Starts them all in parallel,
/// replaces one that dies or retires (from a ready spare when there is one, otherwise by a start, with
/// back-off after failed starts), keeps <see cref="ProcessPoolOptions.SpareWorkers"/> spares ready, and
/// tells dispatch when a slot's worker comes or goes.
/// </summary>
internal sealed class WorkerSlots
{
    private readonly SupervisorContext _context;
    private readonly IWorkerSlotsOwner _owner;
    private readonly WorkerConnection?[] _slots;
    private readonly int[] _consecutiveStartFailures;
    private readonly CrashLoopDetector[] _crashLoops;
    private readonly Lock _gate = new();
    private readonly List<WorkerConnection> _live = [];
    private readonly ConcurrentQueue<WorkerConnection> _spares = new();
    private readonly TaskCompletionSource _allExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _crashLoop;
    private int _lastWorkerId;

    /// <summary>How the worker that last left each slot ended (index: slot).</summary>
    private readonly string?[] _predecessors;

    /// <summary>How the worker that last left a slot ended; null when none has.</summary>
    public string? PredecessorOf(int slot) => slot >= 0 && slot < _predecessors.Length ? Volatile.Read(ref _predecessors[slot]) : null;

    public WorkerSlots(SupervisorContext context, IWorkerSlotsOwner owner)
    {
        _context = context;
        _owner = owner;
        _slots = new WorkerConnection?[context.Options.Processes];
        _predecessors = new string?[context.Options.Processes];
        _consecutiveStartFailures = new int[context.Options.Processes];
        _crashLoops = [.. Enumerable.Range(0, context.Options.Processes).Select(_ => new CrashLoopDetector())];
    }

    /// <summary>Whether dead or recycled workers are replaced; off for a one-off <see cref="WorkerProcess"/>.</summary>
    public bool ReplacesWorkers { get; set; } = true;

    /// <summary>The worker of slot 0 as started, for a one-off <see cref="WorkerProcess"/>.</summary>
    public WorkerConnection? FirstWorker { get; private set; }

    /// <summary>Why no worker runs, while the pool is in a crash loop.</summary>
    public Exception? CrashLoop => Volatile.Read(ref _crashLoop);

    /// <summary>Workers started after the pool's start (replacements, recycling, spares).</summary>
    public long Restarts => Math.Max(0, Volatile.Read(ref _lastWorkerId) - _slots.Length);

    /// <summary>Workers in a slot, ready for jobs.</summary>
    public int ReadyCount => _slots.Count(w => w is not null);

    /// <summary>Completes once every worker has exited after the pool began closing.</summary>
    public Task AllExited => _allExited.Task;

    /// <summary>Every live worker: starting, ready, spare or draining.</summary>
    public IReadOnlyList<WorkerConnection> Live
    {
        get
        {
            lock (_gate)
            {
                return [.. _live];
            }
        }
    }

    /// <summary>Starts every slot's worker in parallel and returns when all are ready; throws the first worker's own exception when one cannot start.</summary>
    public async Task StartAllAsync(CancellationToken cancellationToken)
    {
        var starts = Enumerable.Range(0, _slots.Length).Select(slot => StartWorkerAsync(Launch(slot), slot, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(starts).ConfigureAwait(false);
        }
        catch
        {
            var failure = starts.First(t => t.IsFaulted || t.IsCanceled);
            await failure.ConfigureAwait(false); // rethrows the first worker's own exception, not an AggregateException
            throw;
        }

        for (var i = 0; i < _context.Options.SpareWorkers; i++)
        {
            _ = StartSpareAsync();
        }
    }

    /// <summary>A worker reached MaxTasksPerChild: its replacement starts now, while it finishes its jobs.</summary>
    public void Retire(WorkerConnection worker)
    {
        if (worker.Slot >= 0 && ReferenceEquals(Interlocked.CompareExchange(ref _slots[worker.Slot], null, worker), worker))
        {
            Volatile.Write(ref _predecessors[worker.Slot], $"worker {worker.Id} (pid {worker.ProcessId}) was recycled");
            _owner.OnWorkerLeftSlot(worker, worker.Slot);
            _ = ReplaceAsync(worker.Slot);
        }
    }

    /// <summary>The pool closes: the spares leave, and once every worker is gone <see cref="AllExited"/> completes.</summary>
    public void BeginClosing()
    {
        while (_spares.TryDequeue(out var spare))
        {
            spare.MarkDraining(retiring: false);
            spare.RequestShutdown();
        }

        lock (_gate)
        {
            if (_live.Count == 0)
            {
                _allExited.TrySetResult();
            }
        }
    }

    /// <summary>Kills every worker at once and waits until they are gone.</summary>
    public async Task KillAllAsync(string reason)
    {
        var live = Live;
        foreach (var worker in live)
        {
            worker.Kill(reason);
        }

        await Task.WhenAll(live.Select(w => w.Exited)).ConfigureAwait(false);
    }

    internal void OnWorkerExited(WorkerConnection worker)
    {
        if (worker.Slot < 0)
        {
            // A spare died waiting: start another (one whose start fails is not retried in a loop).
            if (!worker.ExitedAsAsked)
            {
                _ = StartSpareAsync();
            }
        }
        else if (ReferenceEquals(Interlocked.CompareExchange(ref _slots[worker.Slot], null, worker), worker))
        {
            // It died in its slot (a retiring worker left its slot already).
            Volatile.Write(ref _predecessors[worker.Slot], $"worker {worker.Id} (pid {worker.ProcessId}) {worker.ExitReason}");
            _owner.OnWorkerLeftSlot(worker, worker.Slot);
            _ = ReplaceAsync(worker.Slot);
        }

        bool none;
        lock (_gate)
        {
            _live.Remove(worker);
            none = _live.Count == 0;
        }

        if (none && _context.Lifecycle.IsClosing)
        {
            _allExited.TrySetResult();
        }
    }

    private WorkerConnection Launch(int slot)
    {
        var worker = new WorkerConnection(_context, this, Interlocked.Increment(ref _lastWorkerId), slot);
        lock (_gate)
        {
            _live.Add(worker);
        }

        return worker;
    }

    private async Task StartWorkerAsync(WorkerConnection worker, int slot, CancellationToken cancellationToken)
    {
        await worker.StartAsync(cancellationToken).ConfigureAwait(false);
        Occupy(slot, worker);
        if (slot == 0)
        {
            FirstWorker ??= worker;
        }
    }

    private void Occupy(int slot, WorkerConnection worker)
    {
        worker.Slot = slot;
        _slots[slot] = worker;
        _owner.OnWorkerReady(worker, slot);
    }

    /// <summary>Starts a worker that waits, ready, to take a slot the moment its worker retires or dies.</summary>
    private async Task StartSpareAsync()
    {
        if (!ReplacesWorkers || !_context.Lifecycle.IsRunning)
        {
            return;
        }

        var spare = Launch(slot: -1);
        try
        {
            await spare.StartAsync(_context.Lifecycle.Terminated).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Replacements still start the slow way; the spare is tried again when a replacement uses one.
            Log.SpareFailed(_context.Logger, exception, _context.PoolName);
            return;
        }

        _spares.Enqueue(spare);
        if (!_context.Lifecycle.IsRunning)
        {
            BeginClosing(); // the pool began closing while this one started
        }
    }

    /// <summary>Puts a ready spare in the slot; false when there is none.</summary>
    private bool TryTakeSpare(int slot)
    {
        while (_spares.TryDequeue(out var spare))
        {
            if (spare.IsDead)
            {
                continue;
            }

            Occupy(slot, spare);
            _ = StartSpareAsync();
            return true;
        }

        return false;
    }

    private async Task ReplaceAsync(int slot)
    {
        var terminated = _context.Lifecycle.Terminated;
        while (ReplacesWorkers && !terminated.IsCancellationRequested)
        {
            if (!_owner.NeedsReplacement(slot))
            {
                return;
            }

            WorkerConnection? started = null;
            try
            {
                if (!TryTakeSpare(slot))
                {
                    started = Launch(slot); // kept: a failed start's exit code and setup error tell a crash loop
                    await StartWorkerAsync(started, slot, terminated).ConfigureAwait(false);
                }

                _consecutiveStartFailures[slot] = 0;
                _crashLoops[slot].Started();
                if (Interlocked.Exchange(ref _crashLoop, null) is not null)
                {
                    Log.CrashLoopEnded(_context.Logger, _context.PoolName);
                }

                return;
            }
            catch (Exception exception) when (!terminated.IsCancellationRequested)
            {
                var failures = ++_consecutiveStartFailures[slot];
                var kind = CrashLoopDetector.KindOf(started?.SetupFailure, started?.ExitCode, exception, started?.EndedByPool ?? PoolEnded.No, HostPlatform.Current);
                if (_crashLoops[slot].Failed(kind) && Array.TrueForAll(_slots, w => w is null))
                {
                    var crashLoop = new ProcessPoolException(
                        $"No worker of process pool '{_context.PoolName}' is running: the last {_crashLoops[slot].SameInARow} starts of a replacement failed the same way ({kind}). The last failure: {exception.Message}", exception);
                    if (Interlocked.Exchange(ref _crashLoop, crashLoop) is null)
                    {
                        Log.CrashLoop(_context.Logger, exception, _context.PoolName, failures);
                    }

                    _owner.OnCrashLoop(crashLoop);
                }

                var delay = RestartBackoff.DelayAfter(failures);
                Log.ReplacementFailed(_context.Logger, exception, _context.PoolName, slot, failures, delay);
                try
                {
                    await Task.Delay(delay, _context.TimeProvider, terminated).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch
            {
                return;
            }
        }
    }
}
