using System.Buffers;
using ProcessPools.Channels;

namespace ProcessPools.Supervision;

/// <summary>
/// The jobs of one worker, as its connection sees them: what dispatch plugs into a ready worker. The
/// connection hands it the job frames and tells it of the worker's death; it knows nothing of jobs itself.
/// </summary>
internal interface IWorkerJobs
{
    /// <summary>Jobs running in the worker.</summary>
    int InFlightCount { get; }

    /// <summary>Jobs the worker answered.</summary>
    long CompletedCount { get; }

    /// <summary>A <see cref="FrameType.Result"/>, <see cref="FrameType.Fault"/>, <see cref="FrameType.Canceled"/> or <see cref="FrameType.Progress"/> frame, on the reader thread.</summary>
    void OnJobFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload);

    /// <summary>The worker is dead: take no more jobs; returns how many were running (they are answered in <see cref="OnDied"/>).</summary>
    int OnDying();

    /// <summary>The worker is gone and what is known of its end: fail or retry the jobs it was running.</summary>
    void OnDied(WorkerDeath death);
}

/// <summary>How a worker ended, for the exceptions of the jobs it lost.</summary>
internal sealed record WorkerDeath(int ProcessId, int? ExitCode, string Reason, IReadOnlyList<string> StandardErrorTail);
