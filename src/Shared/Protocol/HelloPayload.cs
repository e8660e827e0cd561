using System.Buffers;

namespace ProcessPools.Protocol;

/// <summary>The child's first frame: proves it was launched by this parent (the token came through its environment).</summary>
internal sealed record WorkerHello(string Token, int ProcessId, int ProtocolVersion);

/// <summary>The <see cref="Channels.FrameType.Hello"/> payload: <c>[token][pid][protocol version]</c>.</summary>
internal static class HelloPayload
{
    public static byte[] Encode(WorkerHello hello) => BinaryFields.Write(writer =>
    {
        writer.Write(hello.Token);
        writer.Write(hello.ProcessId);
        writer.Write(hello.ProtocolVersion);
    });

    public static WorkerHello Decode(ReadOnlySequence<byte> payload) =>
        BinaryFields.Read(payload, reader => new WorkerHello(reader.ReadString(), reader.ReadInt32(), reader.ReadInt32()));
}
