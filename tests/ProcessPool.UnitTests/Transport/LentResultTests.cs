using System.Buffers;
using ProcessPools.Transport;

namespace ProcessPools.UnitTests.Transport;

/// <summary>
/// A job's <see cref="IMemoryOwner{T}"/> result as its caller gets it: a large one lent from a reused buffer and given
/// back on dispose, a small one or a null read as the serializer reads it, another serializer left alone.
/// </summary>
public sealed class LentResultTests
{
    private static readonly JsonJobSerializer Serializer = new();

    private static ReadOnlySequence<byte> Written(byte[] data)
    {
        var written = new ArrayBufferWriter<byte>();
        Serializer.Serialize(written, data, typeof(byte[]));
        return new ReadOnlySequence<byte>(written.WrittenMemory);
    }

    [Fact]
    public void A_large_result_is_lent_intact_and_its_memory_is_refused_after_dispose()
    {
        var data = new byte[Channels.LentBytes.MinimumLength + 3];
        Random.Shared.NextBytes(data);

        var result = LentResult.Read(Pieces.Of(Written(data).ToArray(), 1, 5000, 60_000), Serializer)!;

        Assert.IsType<LentResult>(result);
        Assert.Equal(data, result.Memory.ToArray());
        result.Dispose();
        result.Dispose(); // twice is harmless: the buffer went back once
        Assert.Throws<ObjectDisposedException>(() => result.Memory);
    }

    [Fact]
    public void A_small_result_and_a_null_are_read_as_the_serializer_reads_them()
    {
        var small = new byte[] { 1, 2, 3 };
        using var read = LentResult.Read(Written(small), Serializer)!;
        Assert.IsNotType<LentResult>(read);
        Assert.Equal(small, read.Memory.ToArray());

        var none = new ArrayBufferWriter<byte>();
        Serializer.Serialize<byte[]?>(none, null);
        Assert.Null(LentResult.Read(new ReadOnlySequence<byte>(none.WrittenMemory), Serializer));
    }

    [Fact]
    public void Only_a_memory_owner_of_bytes_under_the_default_serializer_is_lent()
    {
        Assert.True(LentResult.Applies(typeof(IMemoryOwner<byte>), Serializer));
        Assert.False(LentResult.Applies(typeof(byte[]), Serializer));
        Assert.False(LentResult.Applies(typeof(ReadOnlyMemory<byte>), Serializer));
        Assert.False(LentResult.Applies(typeof(IMemoryOwner<byte>), new OtherSerializer()));
    }

    private sealed class OtherSerializer : IJobSerializer
    {
        public void Serialize(IBufferWriter<byte> destination, object? value, Type type) => throw new NotSupportedException();

        public object? Deserialize(ReadOnlySequence<byte> source, Type type) => throw new NotSupportedException();
    }
}
