using System.Buffers;
using System.Text.Json;

namespace ProcessPools;

/// <summary>
/// The default serializer: System.Text.Json with fields included, so value tuples round-trip.
/// To change the settings, derive a class whose public parameterless constructor passes its own
/// <see cref="JsonSerializerOptions"/> (for example with a source-generated context) to the base.
/// </summary>
public class JsonJobSerializer : IJobSerializer
{
    private static readonly JsonSerializerOptions DefaultOptions = new(JsonSerializerDefaults.General) { IncludeFields = true };

    /// <summary>Creates the serializer with the default settings.</summary>
    public JsonJobSerializer()
        : this(DefaultOptions)
    {
    }

    /// <summary>Creates the serializer with the given settings.</summary>
    protected JsonJobSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>Gets the settings in use.</summary>
    protected JsonSerializerOptions Options { get; }

    /// <inheritdoc />
    public void Serialize(IBufferWriter<byte> destination, object? value, Type type)
    {
        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, type, Options);
    }

    /// <inheritdoc />
    public object? Deserialize(ReadOnlySequence<byte> source, Type type)
    {
        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize(ref reader, type, Options);
    }
}
