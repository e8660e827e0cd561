using System.Buffers;
using System.Runtime.CompilerServices;
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
        ArgumentNullException.ThrowIfNull(destination);

        // Integers are most of what small jobs send: written directly, as the same JSON text.
        if (ReferenceEquals(Options, DefaultOptions) && value is int or long && (type == typeof(int) || type == typeof(long)))
        {
            var span = destination.GetSpan(20);
            var written = 0;
            var formatted = value is int i ? System.Buffers.Text.Utf8Formatter.TryFormat(i, span, out written) : System.Buffers.Text.Utf8Formatter.TryFormat((long)value, span, out written);
            if (formatted)
            {
                destination.Advance(written);
                return;
            }
        }

        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, type, Options);
    }

    /// <inheritdoc />
    public object? Deserialize(ReadOnlySequence<byte> source, Type type)
    {
        if (ReferenceEquals(Options, DefaultOptions) && source.IsSingleSegment && (type == typeof(int) || type == typeof(long)))
        {
            var span = source.FirstSpan;
            if (type == typeof(int) && System.Buffers.Text.Utf8Parser.TryParse(span, out int i, out var used) && used == span.Length)
            {
                return i;
            }

            if (type == typeof(long) && System.Buffers.Text.Utf8Parser.TryParse(span, out long l, out used) && used == span.Length)
            {
                return l;
            }
        }

        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize(ref reader, type, Options);
    }

    /// <summary>
    /// <see cref="Serialize"/> without boxing, for the typed chunk path of the default serializer: the same
    /// bytes (integers written directly, everything else by System.Text.Json for <typeparamref name="T"/>).
    /// </summary>
    internal void SerializeValue<T>(IBufferWriter<byte> destination, T value)
    {
        if (ReferenceEquals(Options, DefaultOptions))
        {
            var span = destination.GetSpan(20);
            var written = 0;
            var formatted = typeof(T) == typeof(int) ? System.Buffers.Text.Utf8Formatter.TryFormat(Unsafe.As<T, int>(ref value), span, out written)
                : typeof(T) == typeof(long) && System.Buffers.Text.Utf8Formatter.TryFormat(Unsafe.As<T, long>(ref value), span, out written);
            if (formatted)
            {
                destination.Advance(written);
                return;
            }
        }

        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, Options);
    }

    /// <summary><see cref="Deserialize"/> without boxing, for the typed chunk path of the default serializer.</summary>
    internal T DeserializeValue<T>(ReadOnlySequence<byte> source)
    {
        if (ReferenceEquals(Options, DefaultOptions) && source.IsSingleSegment)
        {
            var span = source.FirstSpan;
            if (typeof(T) == typeof(int) && System.Buffers.Text.Utf8Parser.TryParse(span, out int i, out var used) && used == span.Length)
            {
                return Unsafe.As<int, T>(ref i);
            }

            if (typeof(T) == typeof(long) && System.Buffers.Text.Utf8Parser.TryParse(span, out long l, out used) && used == span.Length)
            {
                return Unsafe.As<long, T>(ref l);
            }
        }

        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize<T>(ref reader, Options)!;
    }
}
