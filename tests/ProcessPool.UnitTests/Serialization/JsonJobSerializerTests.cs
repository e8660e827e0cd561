using System.Buffers;
using System.Text.Json;

namespace ProcessPools.UnitTests.Serialization;

public sealed class JsonJobSerializerTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void Integers_travel_as_their_own_bytes_boxed_or_typed_and_read_back(int value)
    {
        var serializer = new JsonJobSerializer();
        var boxedInt = new ArrayBufferWriter<byte>();
        var boxedLong = new ArrayBufferWriter<byte>();
        var typedInt = new ArrayBufferWriter<byte>();
        var typedLong = new ArrayBufferWriter<byte>();
        var wide = (long)value * 3;

        serializer.Serialize(boxedInt, value, typeof(int));
        serializer.Serialize(boxedLong, wide, typeof(long));
        serializer.Serialize(typedInt, value);
        serializer.Serialize(typedLong, wide);

        Assert.Equal(BitConverter.GetBytes(value), boxedInt.WrittenSpan.ToArray());
        Assert.Equal(BitConverter.GetBytes(wide), boxedLong.WrittenSpan.ToArray());
        Assert.Equal(boxedInt.WrittenSpan.ToArray(), typedInt.WrittenSpan.ToArray());
        Assert.Equal(boxedLong.WrittenSpan.ToArray(), typedLong.WrittenSpan.ToArray());
        var read = serializer.Deserialize(new ReadOnlySequence<byte>(boxedInt.WrittenMemory), typeof(int));
        Assert.IsType<int>(read); // boxed as its own type, not widened
        Assert.Equal(value, read);
        Assert.Equal(wide, serializer.Deserialize(new ReadOnlySequence<byte>(boxedLong.WrittenMemory), typeof(long)));
        Assert.Equal(value, serializer.Deserialize<int>(new ReadOnlySequence<byte>(typedInt.WrittenMemory)));
        Assert.Equal(wide, serializer.Deserialize<long>(new ReadOnlySequence<byte>(typedLong.WrittenMemory)));
    }

    [Fact]
    public void An_integer_in_pieces_is_read_and_bytes_of_another_length_are_refused_by_name()
    {
        var serializer = new JsonJobSerializer();
        var bytes = BitConverter.GetBytes(123_456_789_012L);

        Assert.Equal(123_456_789_012L, serializer.Deserialize<long>(Pieces.Of(bytes, 3)));
        var tooShort = Assert.Throws<JsonException>(() => serializer.Deserialize<int>(new ReadOnlySequence<byte>([1, 2, 3])));
        Assert.Contains("An integer takes 4 bytes; the data holds 3", tooShort.Message, StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => serializer.Deserialize(new ReadOnlySequence<byte>(bytes), typeof(int)));
    }

    [Fact]
    public void Settings_of_their_own_for_numbers_keep_integers_in_System_Text_Json()
    {
        var quoted = new QuotedNumbers();
        var written = new ArrayBufferWriter<byte>();

        quoted.Serialize(written, 42);

        Assert.Equal("\"42\""u8.ToArray(), written.WrittenSpan.ToArray());
        Assert.Equal(42, quoted.Deserialize<int>(new ReadOnlySequence<byte>(written.WrittenMemory)));
        Assert.Equal(42L, quoted.Deserialize(new ReadOnlySequence<byte>("\"42\""u8.ToArray()), typeof(long)));
    }

    /// <summary>Regression: a 75 MB byte[] became 100 MB on the wire (base64).</summary>
    [Fact]
    public void Binary_data_travels_as_its_own_bytes_plus_one()
    {
        var serializer = new JsonJobSerializer();
        var data = new byte[] { 0, 1, 2, 250, 255 };
        var boxed = new ArrayBufferWriter<byte>();
        var typed = new ArrayBufferWriter<byte>();
        var none = new ArrayBufferWriter<byte>();

        serializer.Serialize(boxed, data, typeof(byte[]));
        serializer.Serialize(typed, new ReadOnlyMemory<byte>(data));
        serializer.Serialize<byte[]?>(none, null);

        Assert.Equal(data.Length + 1, boxed.WrittenCount);
        Assert.Equal(boxed.WrittenSpan.ToArray(), typed.WrittenSpan.ToArray());
        Assert.Equal(data, (byte[])serializer.Deserialize(new ReadOnlySequence<byte>(boxed.WrittenMemory), typeof(byte[]))!);
        Assert.Equal(data, serializer.Deserialize<ReadOnlyMemory<byte>>(new ReadOnlySequence<byte>(typed.WrittenMemory)).ToArray());
        Assert.Null(serializer.Deserialize<byte[]?>(new ReadOnlySequence<byte>(none.WrittenMemory)));
    }

    [Fact]
    public void A_memory_owner_travels_as_its_bytes_and_is_read_as_an_owner_of_its_own()
    {
        var serializer = new JsonJobSerializer();
        var data = new byte[] { 9, 8, 7, 0, 255 };
        using var sent = MemoryPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(sent.Memory);
        var boxed = new ArrayBufferWriter<byte>();
        var typed = new ArrayBufferWriter<byte>();
        var none = new ArrayBufferWriter<byte>();

        serializer.Serialize(boxed, new SlicedOwner(sent, data.Length), typeof(IMemoryOwner<byte>));
        serializer.Serialize<IMemoryOwner<byte>>(typed, new SlicedOwner(sent, data.Length));
        serializer.Serialize<IMemoryOwner<byte>?>(none, null);

        Assert.Equal([1, .. data], boxed.WrittenSpan.ToArray()); // the same bytes as a byte[]
        Assert.Equal(boxed.WrittenSpan.ToArray(), typed.WrittenSpan.ToArray());
        var read = (IMemoryOwner<byte>)serializer.Deserialize(new ReadOnlySequence<byte>(boxed.WrittenMemory), typeof(IMemoryOwner<byte>))!;
        Assert.Equal(data, read.Memory.ToArray());
        read.Dispose();
        Assert.Throws<ObjectDisposedException>(() => read.Memory);
        using var typedRead = serializer.Deserialize<IMemoryOwner<byte>>(new ReadOnlySequence<byte>(typed.WrittenMemory));
        Assert.Equal(data, typedRead.Memory.ToArray());
        Assert.Null(serializer.Deserialize<IMemoryOwner<byte>?>(new ReadOnlySequence<byte>(none.WrittenMemory)));
    }

    /// <summary>A rented block's first bytes, as a job answering part of a buffer would give them.</summary>
    private sealed class SlicedOwner(IMemoryOwner<byte> owner, int length) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory => owner.Memory[..length];

        public void Dispose()
        {
        }
    }

    private sealed class QuotedNumbers() : JsonJobSerializer(new JsonSerializerOptions
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.WriteAsString | System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString,
    });

    [Theory]
    [InlineData(typeof(ReadBackShape), "an abstract class")]
    [InlineData(typeof(IComparable), "an interface")]
    public void A_type_it_would_write_but_could_not_read_back_is_named_with_the_way_out(Type type, string kind)
    {
        Assert.False(new JsonJobSerializer().CanDeserialize(type, out var reason));

        Assert.StartsWith($"{type} is {kind}, and its JSON does not say which type to create.", reason, StringComparison.Ordinal);
        Assert.Contains("[JsonPolymorphic] and [JsonDerivedType]", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(ReadBackCircle))]                // concrete
    [InlineData(typeof(ReadBackNamedShape))]            // abstract, its derived types named
    [InlineData(typeof(IReadOnlyList<int>))]             // an interface System.Text.Json reads as a collection
    [InlineData(typeof(IDictionary<string, int>))]
    [InlineData(typeof(IMemoryOwner<byte>))]             // binary: the serializer's own
    [InlineData(typeof(object))]                         // read as a JsonElement
    public void Types_it_can_read_back_pass(Type type)
    {
        Assert.True(new JsonJobSerializer().CanDeserialize(type, out var reason));
        Assert.Null(reason);
    }

    [Fact]
    public void A_serializer_of_another_kind_is_trusted_by_default()
    {
        IJobSerializer other = new PlainSerializer();

        Assert.True(other.CanDeserialize(typeof(ReadBackShape), out var reason));
        Assert.Null(reason);
    }

    private sealed class PlainSerializer : IJobSerializer
    {
        public void Serialize(IBufferWriter<byte> destination, object? value, Type type) => throw new NotSupportedException();

        public object? Deserialize(ReadOnlySequence<byte> source, Type type) => throw new NotSupportedException();
    }
}

public abstract record ReadBackShape;

public sealed record ReadBackCircle(double Radius) : ReadBackShape;

[System.Text.Json.Serialization.JsonPolymorphic]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ReadBackSquare), "square")]
public abstract record ReadBackNamedShape;

public sealed record ReadBackSquare(double Side) : ReadBackNamedShape;
