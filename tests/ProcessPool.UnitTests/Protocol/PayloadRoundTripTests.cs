using System.Buffers;
using System.Diagnostics;
using ProcessPools.Channels;
using ProcessPools.Protocol;

namespace ProcessPools.UnitTests.Protocol;

/// <summary>Each payload of the channel, written by its encoder and read back by its decoder, as the other side would.</summary>
public sealed class PayloadRoundTripTests
{
    private static ReadOnlySequence<byte> Sequence(byte[] bytes) => new(bytes);

    private static ReadOnlySequence<byte> Sequence(PooledBufferWriter buffer) => new(buffer.WrittenMemory.ToArray());

    [Fact]
    public void Hello()
    {
        var hello = new WorkerHello(new string('a', 64), 4242, WorkerEnvironment.ProtocolVersion);

        Assert.Equal(hello, HelloPayload.Decode(Sequence(HelloPayload.Encode(hello))));
    }

    [Fact]
    public void Setup()
    {
        var setup = new WorkerSetup
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
            Initializers = [new TypeReference("A, B", null)],
            Jobs = [new TypeReference("C, D", "/srv/app/D.dll"), new TypeReference("E, F", null)],
            ExceptionHandlers = [],
            HostConfigurators = [JobDefinition.From(typeof(PayloadRoundTripTests).GetMethod(nameof(Setup))!)],
        };

        var back = SetupPayload.Decode(Sequence(SetupPayload.Encode(setup)));

        Assert.Equal((7, "images", "/srv/app", null, "App", 16, 1 << 20, TimeSpan.FromSeconds(20)),
            (back.WorkerId, back.PoolName, back.ContentRootPath, back.EnvironmentName, back.ApplicationName, back.ChildConcurrency, back.MaxMessageSize, back.HeartbeatTimeout));
        Assert.Equal(setup.SerializerType, back.SerializerType);
        Assert.Equal(setup.Initializers, back.Initializers);
        Assert.Equal(setup.Jobs, back.Jobs);
        Assert.Empty(back.ExceptionHandlers);
        Assert.Equal(setup.HostConfigurators, back.HostConfigurators);
    }

    [Fact]
    public void A_truncated_setup_is_malformed_data()
    {
        var bytes = SetupPayload.Encode(new WorkerSetup { SerializerType = "S" });

        Assert.Throws<InvalidDataException>(() => SetupPayload.Decode(Sequence(bytes[..^3])));
    }

    [Fact]
    public void A_setup_announcing_too_many_items_is_malformed_data()
    {
        var bytes = SetupPayload.Encode(new WorkerSetup { SerializerType = "S", Initializers = [new TypeReference("A", null)] });
        var forged = SetupPayload.Encode(new WorkerSetup { SerializerType = "S" });

        // The initializer count sits right after the fixed fields; make it huge in the bytes of an otherwise valid setup.
        var at = forged.Length - 4 * sizeof(int);
        BitConverter.GetBytes(BinaryFields.MaxListCount + 1).CopyTo(forged, at);

        Assert.NotNull(SetupPayload.Decode(Sequence(bytes)));
        Assert.Throws<InvalidDataException>(() => SetupPayload.Decode(Sequence(forged)));
    }

    [Fact]
    public void Define()
    {
        var definition = JobDefinition.From(JobTarget.FromDelegate(SquareAsync));

        var back = DefinePayload.Decode(Sequence(DefinePayload.Encode(definition)));

        Assert.Equal(definition, back);
        Assert.Equal(JobTargetKind.Method, back.Kind);
        Assert.EndsWith(nameof(SquareAsync), back.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_arguments_and_a_progress_stand_in()
    {
        using var buffer = new PooledBufferWriter();
        var first = InvokePayload.BeginArgument(buffer);
        buffer.Write("\"text\""u8);
        InvokePayload.EndArgument(buffer, first);
        InvokePayload.WriteProgressArgument(buffer, connected: true);
        InvokePayload.WriteProgressArgument(buffer, connected: false);

        // The frame writer puts the target number in front; the worker reads the frame's whole payload.
        var payload = new byte[sizeof(int) + buffer.WrittenCount];
        BitConverter.GetBytes(17).CopyTo(payload, 0);
        buffer.WrittenMemory.Span.CopyTo(payload.AsSpan(sizeof(int)));
        var reader = new SequenceReader<byte>(Sequence(payload));

        Assert.Equal(17, InvokePayload.ReadTarget(ref reader));
        Assert.Equal("\"text\""u8.ToArray(), InvokePayload.ReadArgument(ref reader, "job").ToArray());
        Assert.True(InvokePayload.IsProgressConnected(InvokePayload.ReadArgument(ref reader, "job")));
        Assert.False(InvokePayload.IsProgressConnected(InvokePayload.ReadArgument(ref reader, "job")));
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(17, InvokePayload.Frame(FrameType.Invoke, 5, 17, buffer.WrittenMemory).Prefix);
    }

    [Fact]
    public void A_truncated_argument_names_the_job()
    {
        using var buffer = new PooledBufferWriter();
        var at = InvokePayload.BeginArgument(buffer);
        buffer.Write("12345"u8);
        InvokePayload.EndArgument(buffer, at);
        var bytes = buffer.WrittenMemory[..^1].ToArray();

        var exception = Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new SequenceReader<byte>(Sequence(bytes));
            InvokePayload.ReadArgument(ref reader, "Jobs.Square");
        });

        Assert.Contains("Jobs.Square", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunk()
    {
        using var buffer = new PooledBufferWriter();
        ChunkPayload.WriteCount(buffer, 3);
        for (var i = 0; i < 3; i++)
        {
            var item = ChunkPayload.BeginItem(buffer);
            var argument = InvokePayload.BeginArgument(buffer);
            buffer.Write([(byte)('0' + i)]);
            InvokePayload.EndArgument(buffer, argument);
            ChunkPayload.EndItem(buffer, item);
        }

        var payload = new byte[sizeof(int) + buffer.WrittenCount];
        BitConverter.GetBytes(9).CopyTo(payload, 0);
        buffer.WrittenMemory.Span.CopyTo(payload.AsSpan(sizeof(int)));
        var reader = new PayloadCursor(Sequence(payload));

        Assert.Equal((9, 3), ChunkPayload.ReadHeader(ref reader));
        for (var i = 0; i < 3; i++)
        {
            var item = ChunkPayload.ReadItem(ref reader, "job");
            Assert.Equal([(byte)('0' + i)], InvokePayload.ReadArgument(ref item, "job").ToArray());
        }

        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void Chunk_answers_of_every_status()
    {
        using var answers = new PooledBufferWriter();
        var ok = ChunkAnswerPayload.BeginItem(answers);
        answers.Write("42"u8);
        ChunkAnswerPayload.EndSucceeded(answers, ok);
        var failed = ChunkAnswerPayload.BeginItem(answers);
        answers.Write("half a result"u8); // written before the item threw: replaced by the fault
        ChunkAnswerPayload.EndFailed(answers, failed, new InvalidOperationException("boom"));
        var cancelled = ChunkAnswerPayload.BeginItem(answers);
        answers.Write("7"u8);
        ChunkAnswerPayload.EndCancelled(answers, cancelled);
        var reader = new PayloadCursor(Sequence(answers));

        var status1 = ChunkAnswerPayload.ReadItem(ref reader, "job", out var blob1);
        var status2 = ChunkAnswerPayload.ReadItem(ref reader, "job", out var blob2);
        var status3 = ChunkAnswerPayload.ReadItem(ref reader, "job", out var blob3);

        Assert.Equal((ItemStatus.Succeeded, "42"), (status1, System.Text.Encoding.UTF8.GetString(blob1.ToArray())));
        Assert.Equal(ItemStatus.Failed, status2);
        Assert.Equal("boom", FaultPayload.Decode(blob2).Message);
        Assert.Equal((ItemStatus.Cancelled, 0L), (status3, blob3.Length));
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void A_chunk_answer_with_an_unknown_status_is_malformed_data()
    {
        using var answers = new PooledBufferWriter();
        var at = ChunkAnswerPayload.BeginItem(answers);
        ChunkAnswerPayload.EndSucceeded(answers, at);
        var bytes = answers.WrittenMemory.ToArray();
        bytes[0] = 9;

        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new PayloadCursor(Sequence(bytes));
            ChunkAnswerPayload.ReadItem(ref reader, "job", out _);
        });
    }

    [Fact]
    public void Fault_keeps_type_hierarchy_message_stack_and_inner_exceptions()
    {
        Exception thrown;
        try
        {
            throw new AggregateException(new FormatException("inner one"), new InvalidOperationException("inner two"));
        }
        catch (Exception exception)
        {
            thrown = exception;
        }

        var back = FaultPayload.Decode(Sequence(FaultPayload.Encode(thrown)));
        var remote = back.ToException("Jobs.Parse");

        Assert.Equal(["System.AggregateException", "System.Exception"], back.TypeHierarchy);
        Assert.Equal(thrown.Message, back.Message);
        Assert.Equal(thrown.StackTrace, back.StackTrace);
        Assert.Equal(["System.FormatException", "System.InvalidOperationException"], remote.InnerExceptions.Select(e => e.RemoteType));
        Assert.True(remote.Is<AggregateException>());
    }

    [Fact]
    public void A_malformed_fault_is_malformed_data()
    {
        Assert.Throws<InvalidDataException>(() => FaultPayload.Decode(Sequence("{\"TypeHierarchy\":"u8.ToArray())));
    }

    [Fact]
    public void Log()
    {
        var entry = new LogEntry("App.Jobs", 3, 12, "Resized", "resized 4 images", "System.Exception: x");

        Assert.Equal(entry, LogPayload.Decode(Sequence(LogPayload.Encode(entry))));
    }

    [Fact]
    public void Trace_context_with_state_and_baggage()
    {
        using var activity = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "vendor=1";
        activity.AddBaggage("tenant", "a,b=c");
        activity.Start();

        var (parent, state, baggage) = TraceContextPayload.Decode(TraceContextPayload.Encode(activity)!);

        Assert.Equal(activity.Id, parent);
        Assert.Equal("vendor=1", state);
        Assert.Equal([KeyValuePair.Create("tenant", "a,b=c")], baggage);
    }

    [Fact]
    public void Frame_header()
    {
        var header = new byte[FrameHeader.Size];
        FrameHeader.Write(header, FrameType.InvokeMany, long.MaxValue - 1, 123_456);

        Assert.Equal((123_456, FrameType.InvokeMany, long.MaxValue - 1), FrameHeader.Read(header));
    }

    private static Task<int> SquareAsync(int x) => Task.FromResult(x * x);
}
