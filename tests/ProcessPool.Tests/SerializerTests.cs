using System.Buffers;
using System.Text.Json;

namespace ProcessPools.Tests;

public sealed class SerializerTests
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

    [Fact]
    public void The_start_up_messages_round_trip_in_their_binary_form()
    {
        var setup = new Protocol.WorkerSetup
        {
            WorkerId = 7,
            PoolName = "images",
            ContentRootPath = "/srv/app",
            EnvironmentName = null,
            ApplicationName = "App",
            SerializerType = typeof(JsonJobSerializer).AssemblyQualifiedName!,
            ChildConcurrency = 16,
            MaxMessageSize = 1 << 20,
            HeartbeatTimeout = TimeSpan.FromSeconds(20),
            Initializers = [new Protocol.TypeReference("A, B", null)],
            Jobs = [new Protocol.TypeReference("C, D", "/srv/app/D.dll"), new Protocol.TypeReference("E, F", null)],
            ExceptionHandlers = [],
            HostConfigurators = [Protocol.JobDefinition.From(typeof(SerializerTests).GetMethod(nameof(The_start_up_messages_round_trip_in_their_binary_form))!)],
        };

        var back = Protocol.WireBinary.DecodeSetup(new ReadOnlySequence<byte>(Protocol.WireBinary.Encode(setup)));
        var hello = Protocol.WireBinary.DecodeHello(new ReadOnlySequence<byte>(Protocol.WireBinary.Encode(new Protocol.WorkerHello("token", 42, 2))));

        Assert.Equal((7, "images", "/srv/app", null, "App", 16, 1 << 20, TimeSpan.FromSeconds(20)),
            (back.WorkerId, back.PoolName, back.ContentRootPath, back.EnvironmentName, back.ApplicationName, back.ChildConcurrency, back.MaxMessageSize, back.HeartbeatTimeout));
        Assert.Equal(setup.SerializerType, back.SerializerType);
        Assert.Equal(setup.Initializers, back.Initializers);
        Assert.Equal(setup.Jobs, back.Jobs);
        Assert.Empty(back.ExceptionHandlers);
        Assert.Equal(setup.HostConfigurators, back.HostConfigurators);
        Assert.Equal(new Protocol.WorkerHello("token", 42, 2), hello);
    }
}
