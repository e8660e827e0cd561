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
}
