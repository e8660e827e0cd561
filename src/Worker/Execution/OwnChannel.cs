using ProcessPools.Channels;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// The test seam of a worker's channel: the handles it was started with, and raw frames written on it exactly as the
/// worker's own frames are. The repository's tests reach it from inside a job (by name, through reflection: the
/// shared channel types are compiled into both sides, so neither side lends its internals to tests of both) to see
/// what a process the job starts would inherit, and to send the parent frames that break the protocol, on every OS.
/// Nothing in the pool calls it.
/// </summary>
internal static class OwnChannel
{
    private static FrameWriter? s_writer;

    /// <summary>The handle (Unix: descriptor) the worker reads its parent's frames from, as a decimal string.</summary>
    internal static string? InputHandle { get; private set; }

    /// <summary>The handle (Unix: descriptor) the worker writes its frames to, as a decimal string.</summary>
    internal static string? OutputHandle { get; private set; }

    internal static void Opened(string input, string output) => (InputHandle, OutputHandle) = (input, output);

    internal static void Writing(FrameWriter writer) => s_writer = writer;

    /// <summary>Writes one frame of any type, job id and payload among the worker's own; false before the channel is open or after it closed.</summary>
    internal static bool WriteRaw(byte type, long jobId, byte[] payload) =>
        s_writer?.TryWrite(new OutgoingFrame((FrameType)type, jobId, payload)) ?? false;
}
