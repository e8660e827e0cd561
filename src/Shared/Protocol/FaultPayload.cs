using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ProcessPools.Protocol;

/// <summary>An exception as it crosses the process boundary: its type hierarchy, message, stack and inner exceptions.</summary>
internal sealed record RemoteError
{
    /// <summary>How deep inner exceptions are followed; a cycle or a very deep chain stops here.</summary>
    public const int MaxDepth = 8;

    public required IReadOnlyList<string> TypeHierarchy { get; init; }
    public required string Message { get; init; }
    public string? StackTrace { get; init; }
    public IReadOnlyList<RemoteError>? Inner { get; init; }

    public static RemoteError From(Exception exception, int depth = 0)
    {
        var hierarchy = new List<string>();
        for (var type = exception.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            hierarchy.Add(type.FullName ?? type.Name);
        }

        IReadOnlyList<RemoteError>? inner = null;
        if (depth < MaxDepth)
        {
            inner = exception switch
            {
                AggregateException aggregate => [.. aggregate.InnerExceptions.Select(e => From(e, depth + 1))],
                { InnerException: { } one } => [From(one, depth + 1)],
                _ => null,
            };
        }

        return new RemoteError { TypeHierarchy = hierarchy, Message = exception.Message, StackTrace = exception.StackTrace, Inner = inner };
    }

    public RemoteJobException ToException(string jobName) =>
        new(jobName, TypeHierarchy, Message, StackTrace, Inner?.Select(e => e.ToException(jobName)).ToArray());
}

/// <summary>
/// The payload of <see cref="Channels.FrameType.Fault"/> and <see cref="Channels.FrameType.SetupFailed"/>, and of a
/// failed item in a chunk's answers: a <see cref="RemoteError"/> as JSON.
/// </summary>
internal static class FaultPayload
{
    public static byte[] Encode(Exception exception) =>
        JsonSerializer.SerializeToUtf8Bytes(RemoteError.From(exception), ProtocolJsonContext.Default.RemoteError);

    /// <summary>Writes the fault into a larger payload (a chunk's answers).</summary>
    public static void Write(IBufferWriter<byte> destination, Exception exception)
    {
        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, RemoteError.From(exception), ProtocolJsonContext.Default.RemoteError);
    }

    public static RemoteError Decode(ReadOnlySequence<byte> payload) => ProtocolJsonContext.Decode(payload, ProtocolJsonContext.Default.RemoteError, "fault");
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RemoteError))]
[JsonSerializable(typeof(LogEntry))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext
{
    /// <summary>Reads a JSON payload of the protocol; an empty or malformed one is malformed data, which breaks the channel.</summary>
    public static T Decode<T>(ReadOnlySequence<byte> payload, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
        where T : class
    {
        var reader = new Utf8JsonReader(payload);
        try
        {
            return JsonSerializer.Deserialize(ref reader, type) ?? throw new InvalidDataException($"An empty {what} payload.");
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"A malformed {what} payload: {exception.Message}", exception);
        }
    }
}
