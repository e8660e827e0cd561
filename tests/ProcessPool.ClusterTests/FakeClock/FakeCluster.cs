using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Orleans.Metadata;
using ProcessPools.Operations;
using ProcessPools.Orleans.Contracts;

namespace ProcessPools.ClusterTests.FakeClock;

/// <summary>
/// A cluster manifest that the test changes, and execution grains that the test answers: what a front end sees of a
/// cluster, for unit tests of its waits and checks under a fake clock. The front end's code is the real one; only Orleans'
/// side of the conversation is played here.
/// </summary>
internal sealed class FakeCluster : IClusterManifestProvider
{
    private readonly Channel<ClusterManifest> _updates = Channel.CreateUnbounded<ClusterManifest>();
    private int _version;

    public Dictionary<SiloAddress, FakeGrain> Grains { get; } = [];

    public ClusterManifest Current { get; private set; } = new(new MajorMinorVersion(0, 0), ImmutableDictionary<SiloAddress, GrainManifest>.Empty);

    public IAsyncEnumerable<ClusterManifest> Updates => _updates.Reader.ReadAllAsync();

    public GrainManifest LocalGrainManifest => throw new NotSupportedException("a front end reads the cluster's manifest only");

    public static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    /// <summary>Lists the silos as running the execution grain, each with a grain the test controls.</summary>
    public void SetSilos(params SiloAddress[] silos)
    {
        var grain = new GrainProperties(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal));
        var manifest = new GrainManifest(
            ImmutableDictionary<GrainType, GrainProperties>.Empty.Add(GrainType.Create(IProcessPoolGrain.GrainTypeName), grain),
            ImmutableDictionary<GrainInterfaceType, GrainInterfaceProperties>.Empty);
        foreach (var silo in silos)
        {
            Grains.TryAdd(silo, new FakeGrain());
        }

        Current = new ClusterManifest(new MajorMinorVersion(++_version, 0), silos.ToImmutableDictionary(s => s, _ => manifest));
        _updates.Writer.TryWrite(Current);
    }

    public IProcessPoolGrain GrainOf(SiloAddress silo) => Grains[silo];
}

/// <summary>A silo's execution grain as the test plays it.</summary>
internal sealed class FakeGrain : IProcessPoolGrain
{
    /// <summary>What the silo answers to a check of calls: by default, that it never received them.</summary>
    public Func<long[], CallCheck> OnCheck { get; set; } = calls => new CallCheck { Unknown = calls, Answered = [] };

    /// <summary>Signalled at each check, with the calls asked about.</summary>
    public Channel<long[]> Checks { get; } = Channel.CreateUnbounded<long[]>();

    /// <summary>The calls it received; an invoke waits until the test answers it through <see cref="Calls"/>.</summary>
    public Channel<(JobCall Call, TaskCompletionSource<JobReply> Reply, CancellationToken Token)> Calls { get; } = Channel.CreateUnbounded<(JobCall, TaskCompletionSource<JobReply>, CancellationToken)>();

    public int Capacity { get; set; } = 4;

    public Task<JobReply> InvokeAsync(JobCall call, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<JobReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        Calls.Writer.TryWrite((call, reply, cancellationToken));
        return reply.Task;
    }

    public Task<JobReply> InvokeChunkAsync(ChunkCall call, CancellationToken cancellationToken) => throw new NotSupportedException("no map in these tests");

    public Task<CallCheck> CheckCallsAsync(Guid frontEnd, long[] calls)
    {
        Checks.Writer.TryWrite(calls);
        return Task.FromResult(OnCheck(calls));
    }

    public Task<SiloPoolReport> GetReportAsync() => Task.FromResult(new SiloPoolReport { Workers = [], Capacity = Capacity, IsAcceptingJobs = true });

    /// <summary>What it answers to an operator's inspection: by default, at once, a pool of one ready worker.</summary>
    public Func<Task<PoolInspection>> OnInspect { get; set; } = () => Task.FromResult(new PoolInspection
    {
        Name = "silo-pool",
        Processes = 1,
        ChildConcurrency = 4,
        QueueLengths = [2],
        Succeeded = 10,
        Failed = 1,
        Workers = [new WorkerInspection { WorkerId = 1, ProcessId = 4242, State = WorkerState.Ready }],
    });

    /// <summary>The operator's actions it received, answered Done.</summary>
    public List<(OperatorAction Action, long Target)> Actions { get; } = [];

    public async Task<byte[]> InspectAsync() => JsonSerializer.SerializeToUtf8Bytes(await OnInspect(), OperatorJson.Default.PoolInspection);

    public Task<byte[]> RecentFailuresAsync() => Task.FromResult(JsonSerializer.SerializeToUtf8Bytes(Array.Empty<JobFailureRecord>(), OperatorJson.Default.JobFailureRecordArray));

    public Task<byte[]?> WorkerOutputAsync(int workerId) => Task.FromResult<byte[]?>(null);

    public Task<int> OperateAsync(OperatorAction action, long target)
    {
        lock (Actions)
        {
            Actions.Add((action, target));
        }

        return Task.FromResult((int)OperatorAnswer.Done);
    }
}
