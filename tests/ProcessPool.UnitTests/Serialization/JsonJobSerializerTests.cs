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
    public void The_integer_fast_path_writes_what_System_Text_Json_writes_and_reads_it_back(int value)
    {
        var serializer = new JsonJobSerializer();
        var asInt = new ArrayBufferWriter<byte>();
        var asLong = new ArrayBufferWriter<byte>();

        serializer.Serialize(asInt, value, typeof(int));
        serializer.Serialize(asLong, (long)value * 3, typeof(long));

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(value), asInt.WrittenSpan.ToArray());
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes((long)value * 3), asLong.WrittenSpan.ToArray());
        Assert.Equal(value, serializer.Deserialize(new ReadOnlySequence<byte>(asInt.WrittenMemory), typeof(int)));
        Assert.Equal((long)value * 3, serializer.Deserialize(new ReadOnlySequence<byte>(asLong.WrittenMemory), typeof(long)));
    }

    [Fact]
    public void Json_the_fast_path_does_not_parse_falls_back_to_System_Text_Json()
    {
        var serializer = new JsonJobSerializer();

        Assert.Equal(42, serializer.Deserialize(new ReadOnlySequence<byte>(" 42 "u8.ToArray()), typeof(int)));
        Assert.Throws<JsonException>(() => serializer.Deserialize(new ReadOnlySequence<byte>("\"x\""u8.ToArray()), typeof(int)));
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
}
