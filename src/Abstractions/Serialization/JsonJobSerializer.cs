using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ProcessPools;

/// <summary>
/// The default serializer: System.Text.Json with fields included, so value tuples round-trip.
/// To change the settings, derive a class whose public parameterless constructor passes its own
/// <see cref="JsonSerializerOptions"/> or a source-generated <c>JsonSerializerContext</c> to the base: a worker
/// creates the same class. In a trimmed or Native AOT application, the context is required (reflection-based
/// serialization is off there): list every argument and result type with <c>[JsonSerializable(typeof(T))]</c>.
/// </summary>
public class JsonJobSerializer : IJobSerializer
{
    private static readonly JsonSerializerOptions DefaultOptions = new(JsonSerializerDefaults.General) { IncludeFields = true, TypeInfoResolver = ReflectionResolver() };

    private readonly bool _hasResolver;
    private readonly bool _plainNumbers;

    /// <summary>Creates the serializer with the default settings.</summary>
    public JsonJobSerializer()
        : this(DefaultOptions)
    {
    }

    /// <summary>Creates the serializer with the given settings.</summary>
    protected JsonJobSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _hasResolver = options.TypeInfoResolver is not null && !ReferenceEquals(options, DefaultOptions);
        Options = options.TypeInfoResolver is null
            ? new JsonSerializerOptions(options) { TypeInfoResolver = ReflectionResolver() }
            : options;
        _plainNumbers = Options.NumberHandling == System.Text.Json.Serialization.JsonNumberHandling.Strict && Options.Converters.Count == 0;
    }

    /// <summary>Creates the serializer over source-generated metadata (a <c>JsonSerializerContext</c>), with fields included.</summary>
    /// <param name="resolver">The metadata of every type the jobs send and return.</param>
    protected JsonJobSerializer(IJsonTypeInfoResolver resolver)
        : this(new JsonSerializerOptions(JsonSerializerDefaults.General) { IncludeFields = true, TypeInfoResolver = resolver ?? throw new ArgumentNullException(nameof(resolver)) })
    {
    }

    /// <summary>
    /// Gets whether this serializer can serialize anything here: reflection-based serialization is on, or a
    /// resolver of source-generated metadata was given (required in trimmed and Native AOT applications).
    /// </summary>
    public bool HasMetadata => _hasResolver || JsonSerializer.IsReflectionEnabledByDefault;

    /// <summary>Gets the settings in use.</summary>
    protected JsonSerializerOptions Options { get; }

    /// <inheritdoc />
    public void Serialize(IBufferWriter<byte> destination, object? value, Type type)
    {
        ArgumentNullException.ThrowIfNull(destination);

        // Integers are most of what small jobs send: written directly, as the same JSON text.
        if (PlainNumbers && (type == typeof(int) || type == typeof(long)) && value is int or long && TryWriteInteger(destination, value is int i ? i : (long)value))
        {
            return;
        }

        if (IsBinary(type))
        {
            WriteBinary(destination, value);
            return;
        }

        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, Metadata(type));
    }

    /// <inheritdoc />
    public object? Deserialize(ReadOnlySequence<byte> source, Type type)
    {
        if (PlainNumbers && (type == typeof(int) || type == typeof(long)) && TryReadInteger(source, asInt: type == typeof(int), out var integer))
        {
            return type == typeof(int) ? (object)(int)integer : integer; // boxed as its own type, not widened to long
        }

        if (IsBinary(type))
        {
            return ReadBinary(source, type);
        }

        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize(ref reader, Metadata(type));
    }

    /// <summary>
    /// Binary data travels as its own bytes, not as JSON's base64 text (a third larger, and encoded and decoded on
    /// both sides): a byte <c>1</c> then the bytes, or a byte <c>0</c> for a null array.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // folds to a constant in Serialize<T> and Deserialize<T>
    private static bool IsBinary(Type type) => type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>);

    private static void WriteBinary(IBufferWriter<byte> destination, object? value)
    {
        var bytes = value switch
        {
            byte[] array => array.AsSpan(),
            ReadOnlyMemory<byte> memory => memory.Span,
            Memory<byte> memory => memory.Span,
            _ => default,
        };
        var span = destination.GetSpan(1 + bytes.Length);
        span[0] = value is null ? (byte)0 : (byte)1;
        bytes.CopyTo(span[1..]);
        destination.Advance(1 + bytes.Length);
    }

    private static object? ReadBinary(ReadOnlySequence<byte> source, Type type)
    {
        if (source.IsEmpty)
        {
            throw new JsonException("Binary data without its marker byte.");
        }

        var first = source.FirstSpan[0];
        if (first == 0)
        {
            return type == typeof(byte[]) ? null : throw new JsonException($"A null cannot be read as {type}.");
        }

        // Every byte is written by the copy: the array need not be zeroed first (a large one is, otherwise, twice over).
        var payload = source.Slice(1);
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)payload.Length));
        payload.CopyTo(bytes);
        // Each branch boxed as itself: as one expression, byte[] would convert to ReadOnlyMemory<byte>.
        if (type == typeof(byte[]))
        {
            return bytes;
        }

        return type == typeof(Memory<byte>) ? (object)new Memory<byte>(bytes) : new ReadOnlyMemory<byte>(bytes);
    }

    /// <summary>Writes <paramref name="value"/> without boxing: the same bytes as <see cref="Serialize(IBufferWriter{byte}, object?, Type)"/>.</summary>
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (IsBinary(typeof(T)))
        {
            WriteBinary(destination, value);
            return;
        }

        if (PlainNumbers && (typeof(T) == typeof(int) ? TryWriteInteger(destination, Unsafe.As<T, int>(ref value))
            : typeof(T) == typeof(long) && TryWriteInteger(destination, Unsafe.As<T, long>(ref value))))
        {
            return;
        }

        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, (JsonTypeInfo<T>)Metadata(typeof(T)));
    }

    /// <summary>Reads a value without boxing, as <see cref="Deserialize(ReadOnlySequence{byte}, Type)"/> does.</summary>
    public T Deserialize<T>(ReadOnlySequence<byte> source)
    {
        if (IsBinary(typeof(T)))
        {
            return (T)ReadBinary(source, typeof(T))!;
        }

        if (PlainNumbers && (typeof(T) == typeof(int) || typeof(T) == typeof(long)) && TryReadInteger(source, asInt: typeof(T) == typeof(int), out var integer))
        {
            if (typeof(T) == typeof(int))
            {
                var narrow = (int)integer;
                return Unsafe.As<int, T>(ref narrow);
            }

            return Unsafe.As<long, T>(ref integer);
        }

        var reader = new Utf8JsonReader(source);
        return JsonSerializer.Deserialize(ref reader, (JsonTypeInfo<T>)Metadata(typeof(T)))!;
    }

    /// <summary>
    /// Metadata made by reflection where the application allows it; none in a trimmed or Native AOT application, whose
    /// build turns the feature switch off (and removes this branch), so a source-generated context must be given there.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and Native AOT builds turn off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and Native AOT builds turn off.")]
    private static DefaultJsonTypeInfoResolver? ReflectionResolver() => JsonSerializer.IsReflectionEnabledByDefault ? new DefaultJsonTypeInfoResolver() : null;

    /// <summary>The metadata of a type: from the resolver given, or made by reflection where that is enabled.</summary>
    /// <exception cref="NotSupportedException">Neither has it; the message names the type and what to do.</exception>
    private JsonTypeInfo Metadata(Type type)
    {
        try
        {
            return Options.GetTypeInfo(type);
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException)
        {
            throw new NotSupportedException(
                $"{GetType().Name} has no JSON metadata for {type}: {exception.Message} In a trimmed or Native AOT application, derive a serializer from " +
                "JsonJobSerializer whose parameterless constructor passes a JsonSerializerContext with [JsonSerializable(typeof(...))] for every argument and result type, " +
                "and set ProcessPoolOptions.Serializer to it.",
                exception);
        }
    }

    /// <summary>
    /// Whether integers take the direct path: settings under which System.Text.Json writes and reads an integer as its
    /// plain JSON number (strict number handling, no converter of their own), such as the defaults or a source-generated
    /// context passed to the constructor.
    /// </summary>
    private bool PlainNumbers => _plainNumbers;

    /// <summary>Writes an integer as its JSON text (what System.Text.Json writes for it).</summary>
    private static bool TryWriteInteger(IBufferWriter<byte> destination, long value)
    {
        if (!System.Buffers.Text.Utf8Formatter.TryFormat(value, destination.GetSpan(20), out var written))
        {
            return false;
        }

        destination.Advance(written);
        return true;
    }

    /// <summary>Reads a whole single-segment payload as an integer (in <see cref="int"/> range when <paramref name="asInt"/>); false sends it to System.Text.Json.</summary>
    private static bool TryReadInteger(ReadOnlySequence<byte> source, bool asInt, out long value)
    {
        value = 0;
        if (!source.IsSingleSegment)
        {
            return false;
        }

        var span = source.FirstSpan;
        if (asInt)
        {
            if (!System.Buffers.Text.Utf8Parser.TryParse(span, out int narrow, out var usedNarrow) || usedNarrow != span.Length)
            {
                return false;
            }

            value = narrow;
            return true;
        }

        return System.Buffers.Text.Utf8Parser.TryParse(span, out value, out var used) && used == span.Length;
    }
}
