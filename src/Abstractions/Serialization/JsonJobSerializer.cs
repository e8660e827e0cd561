using System.Buffers;
using System.Buffers.Binary;
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
/// Binary data (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>, <c>Memory&lt;byte&gt;</c>, <c>IMemoryOwner&lt;byte&gt;</c>) travels as its own
/// bytes, and an <see cref="int"/> or a
/// <see cref="long"/> as its 4 or 8 bytes, unless the settings give numbers a handling or a converter of their own.
/// Its members are not virtual: a derived class changes the settings, through its constructor, and nothing else (the
/// pool calls them directly).
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
    /// <remarks>
    /// No for an abstract class or an interface whose JSON does not name the type to create: System.Text.Json writes
    /// such a value as its declared type and cannot read it back. Yes where the settings name its derived types
    /// (<c>[JsonPolymorphic]</c> and <c>[JsonDerivedType]</c>), a converter or a factory reads it, or it is a collection; for
    /// every concrete type (whose other problems the first write reports); and where no metadata is at hand (the
    /// write reports that too).
    /// </remarks>
    public bool CanDeserialize(Type type, [NotNullWhen(false)] out string? reason)
    {
        ArgumentNullException.ThrowIfNull(type);
        reason = null;
        if (IsBinary(type) || !(type.IsAbstract || type.IsInterface))
        {
            return true;
        }

        JsonTypeInfo info;
        try
        {
            info = Options.GetTypeInfo(type);
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return true;
        }

        if (info.Kind != JsonTypeInfoKind.Object || info.PolymorphismOptions is not null || info.CreateObject is not null)
        {
            return true;
        }

        reason = $"{type} is {(type.IsInterface ? "an interface" : "an abstract class")}, and its JSON does not say which type to create. " +
            "Declare a concrete type, or name the derived types with [JsonPolymorphic] and [JsonDerivedType] (System.Text.Json.Serialization).";
        return false;
    }

    /// <inheritdoc />
    public void Serialize(IBufferWriter<byte> destination, object? value, Type type)
    {
        ArgumentNullException.ThrowIfNull(destination);

        // Integers are most of what small jobs send: their own bytes, no text (see PlainNumbers).
        if (PlainNumbers && type == typeof(int) && value is int narrow)
        {
            WriteInteger(destination, narrow);
            return;
        }

        if (PlainNumbers && type == typeof(long) && value is long wide)
        {
            WriteInteger(destination, wide);
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
        if (PlainNumbers && type == typeof(int))
        {
            return ReadInt32(source);
        }

        if (PlainNumbers && type == typeof(long))
        {
            return ReadInt64(source);
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
    private static bool IsBinary(Type type) => type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(Memory<byte>) || type == typeof(IMemoryOwner<byte>);

    private static void WriteBinary(IBufferWriter<byte> destination, object? value)
    {
        var bytes = value switch
        {
            byte[] array => array.AsSpan(),
            ReadOnlyMemory<byte> memory => memory.Span,
            Memory<byte> memory => memory.Span,
            IMemoryOwner<byte> owner => owner.Memory.Span,
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
            return type == typeof(byte[]) || type == typeof(IMemoryOwner<byte>) ? null : throw new JsonException($"A null cannot be read as {type}.");
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

        if (type == typeof(IMemoryOwner<byte>))
        {
            return new ArrayMemoryOwner(bytes);
        }

        return type == typeof(Memory<byte>) ? (object)new Memory<byte>(bytes) : new ReadOnlyMemory<byte>(bytes);
    }

    /// <summary>Writes <paramref name="value"/> without boxing: the same bytes as <see cref="Serialize(IBufferWriter{byte}, object?, Type)"/>.</summary>
    // Inlined into its caller: for an integer, what is left is the integer's write, on the caller's own buffer type.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (typeof(T) == typeof(int) && PlainNumbers)
        {
            WriteInteger(destination, Unsafe.As<T, int>(ref value));
            return;
        }

        if (typeof(T) == typeof(long) && PlainNumbers)
        {
            WriteInteger(destination, Unsafe.As<T, long>(ref value));
            return;
        }

        SerializeValue(destination, value);
    }

    /// <summary>Reads a value without boxing, as <see cref="Deserialize(ReadOnlySequence{byte}, Type)"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Deserialize<T>(ReadOnlySequence<byte> source)
    {
        if (typeof(T) == typeof(int) && PlainNumbers)
        {
            var narrow = ReadInt32(source);
            return Unsafe.As<int, T>(ref narrow);
        }

        if (typeof(T) == typeof(long) && PlainNumbers)
        {
            var wide = ReadInt64(source);
            return Unsafe.As<long, T>(ref wide);
        }

        return DeserializeValue<T>(source);
    }

    private void SerializeValue<T>(IBufferWriter<byte> destination, T value)
    {
        if (IsBinary(typeof(T)))
        {
            WriteBinary(destination, value);
            return;
        }

        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, (JsonTypeInfo<T>)Metadata(typeof(T)));
    }

    private T DeserializeValue<T>(ReadOnlySequence<byte> source)
    {
        if (IsBinary(typeof(T)))
        {
            return (T)ReadBinary(source, typeof(T))!;
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
    /// Whether integers take the direct path: an <see cref="int"/> or a <see cref="long"/> travels as its 4 or 8 bytes
    /// (little-endian), not as JSON text, which is most of the cost of a small job's argument and result to format and
    /// parse. Only under settings where System.Text.Json would write the plain number anyway (strict number handling, no
    /// converter of their own), such as the defaults or a source-generated context passed to the constructor: otherwise
    /// the settings' own handling applies. Both sides of a channel create the same serializer, so they agree.
    /// </summary>
    private bool PlainNumbers => _plainNumbers;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteInteger(IBufferWriter<byte> destination, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination.GetSpan(sizeof(int)), value);
        destination.Advance(sizeof(int));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteInteger(IBufferWriter<byte> destination, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination.GetSpan(sizeof(long)), value);
        destination.Advance(sizeof(long));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadInt32(ReadOnlySequence<byte> source)
    {
        var span = source.FirstSpan;
        return span.Length == sizeof(int) && source.IsSingleSegment ? BinaryPrimitives.ReadInt32LittleEndian(span) : ReadInt32InPieces(source);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ReadInt64(ReadOnlySequence<byte> source)
    {
        var span = source.FirstSpan;
        return span.Length == sizeof(long) && source.IsSingleSegment ? BinaryPrimitives.ReadInt64LittleEndian(span) : ReadInt64InPieces(source);
    }

    // Apart: a stack buffer in a method keeps it from being inlined.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReadInt32InPieces(ReadOnlySequence<byte> source) => BinaryPrimitives.ReadInt32LittleEndian(Exactly(source, stackalloc byte[sizeof(int)]));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long ReadInt64InPieces(ReadOnlySequence<byte> source) => BinaryPrimitives.ReadInt64LittleEndian(Exactly(source, stackalloc byte[sizeof(long)]));

    /// <summary>An integer's bytes in several pieces, copied together; any other length is not one of ours.</summary>
    private static ReadOnlySpan<byte> Exactly(ReadOnlySequence<byte> source, Span<byte> bytes)
    {
        if (source.Length != bytes.Length)
        {
            throw new JsonException($"An integer takes {bytes.Length} bytes; the data holds {source.Length}.");
        }

        source.CopyTo(bytes);
        return bytes;
    }
}
