namespace ProcessPools.Channels;

/// <summary>What a frame on a worker's channel carries.</summary>
internal enum FrameType : byte
{
    // Parent to child.

    /// <summary>The worker's settings (<see cref="Protocol.WorkerSetup"/>), sent once after the child's hello.</summary>
    Setup = 1,

    /// <summary>Teaches the child a job target's identity (<see cref="Protocol.JobDefinition"/>) under a number.</summary>
    Define = 2,

    /// <summary>Runs a job: the target's number, then each argument as a length-prefixed blob.</summary>
    Invoke = 3,

    /// <summary>Cancels a running job.</summary>
    Cancel = 4,

    /// <summary>Finish the running jobs, then exit.</summary>
    Shutdown = 5,

    /// <summary>A heartbeat: the child answers <see cref="Pong"/> from its reader loop.</summary>
    Ping = 6,

    /// <summary>The trace context of the next invoke frame of the same job (<see cref="TraceContext"/>).</summary>
    TraceContext = 7,

    /// <summary>
    /// Runs a chunk of a map's items, one after the other: the target's number, the item count, then each
    /// item's arguments as a length-prefixed blob. Answered by one <see cref="Result"/> frame holding, per
    /// item, a status byte (0 result, 1 fault, 2 cancelled) and a length-prefixed blob.
    /// </summary>
    InvokeMany = 8,

    /// <summary>The parent's first frame: the handshake token, which the child echoes in its <see cref="Hello"/>.</summary>
    Challenge = 9,

    // Child to parent.

    /// <summary>The child's first frame: the handshake token and its pid (<see cref="Protocol.WorkerHello"/>).</summary>
    Hello = 16,

    /// <summary>The child's host is built and its initializers ran: it takes jobs.</summary>
    Ready = 17,

    /// <summary>The child could not set up; the payload is a <see cref="Protocol.RemoteError"/>.</summary>
    SetupFailed = 18,

    /// <summary>A job's serialized result.</summary>
    Result = 19,

    /// <summary>A job threw; the payload is a <see cref="Protocol.RemoteError"/>.</summary>
    Fault = 20,

    /// <summary>A job ended by cancellation.</summary>
    Canceled = 21,

    /// <summary>The answer to a <see cref="Ping"/>.</summary>
    Pong = 22,

    /// <summary>A log entry written in the child (<see cref="Protocol.LogEntry"/>).</summary>
    Log = 23,

    /// <summary>A running job's progress report: the serialized value given to its <see cref="IProgress{T}"/>.</summary>
    Progress = 24,

    // Either way.

    /// <summary>
    /// The receiver has read the sender's shared-memory segment (its number, int32): the sender may reuse it. A frame
    /// whose payload is in a segment has <see cref="SegmentFrames.InSegment"/> added to its own type.
    /// </summary>
    ReleaseSegment = 32,
}
