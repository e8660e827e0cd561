using System.Buffers;
using System.Text.Json;

namespace ProcessPools.Protocol;

/// <summary>A log entry written through <c>ILogger</c> in a worker, re-logged by the parent.</summary>
internal sealed record LogEntry(string Category, int Level, int EventId, string? EventName, string Message, string? Exception);

/// <summary>The <see cref="Channels.FrameType.Log"/> payload: a <see cref="LogEntry"/> as JSON.</summary>
internal static class LogPayload
{
    public static byte[] Encode(LogEntry entry) => JsonSerializer.SerializeToUtf8Bytes(entry, ProtocolJsonContext.Default.LogEntry);

    public static LogEntry Decode(ReadOnlySequence<byte> payload) => ProtocolJsonContext.Decode(payload, ProtocolJsonContext.Default.LogEntry, "log");
}
