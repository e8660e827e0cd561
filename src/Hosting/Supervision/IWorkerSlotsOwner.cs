namespace ProcessPools.Supervision;

/// <summary>What the pool's slots tell dispatch: a worker took a slot or left it, and whether starts keep failing.</summary>
internal interface IWorkerSlotsOwner
{
    /// <summary>A ready worker took <paramref name="slot"/>: give it its queue and start feeding it.</summary>
    void OnWorkerReady(WorkerConnection worker, int slot);

    /// <summary>A worker left <paramref name="slot"/> (died, or retires): its queue has one worker less.</summary>
    void OnWorkerLeftSlot(WorkerConnection worker, int slot);

    /// <summary>Whether a slot still needs a replacement worker; while the pool closes, only while its queue holds or runs jobs.</summary>
    bool NeedsReplacement(int slot);

    /// <summary>No worker runs and none will start: answer what waits instead of leaving it pending.</summary>
    void OnCrashLoop(Exception exception);
}
