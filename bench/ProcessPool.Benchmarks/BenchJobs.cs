namespace ProcessPools.Benchmarks;

/// <summary>The jobs the workloads run, in the workers and, for the baselines, in-process.</summary>
public static class BenchJobs
{
    public static Task<int> TrivialAsync(int x) => Task.FromResult(x + 1);

    /// <summary>Receives a payload and answers its length: the parent-to-worker direction.</summary>
    public static Task<int> LengthAsync(byte[] data) => Task.FromResult(data.Length);

    /// <summary>The length of a memory argument (a large one is lent from the worker's reused buffers, not a new array).</summary>
    public static Task<int> MemoryLengthAsync(ReadOnlyMemory<byte> data) => Task.FromResult(data.Length);

    private static byte[] s_payload = [];

    /// <summary>Answers a payload of <paramref name="size"/> bytes, made once per size: the worker-to-parent direction.</summary>
    public static Task<byte[]> PayloadAsync(int size)
    {
        if (s_payload.Length != size)
        {
            s_payload = new byte[size];
            Random.Shared.NextBytes(s_payload);
        }

        return Task.FromResult(s_payload);
    }

    /// <summary>
    /// The same payload as <see cref="PayloadAsync"/> as an <see cref="System.Buffers.IMemoryOwner{T}"/>: its caller gets it
    /// in a reused buffer of its own to dispose, instead of a new array (the payload is the job's, kept: disposing it here
    /// lets nothing go).
    /// </summary>
    public static async Task<System.Buffers.IMemoryOwner<byte>> OwnedPayloadAsync(int size) => new Kept(await PayloadAsync(size));

    private sealed class Kept(byte[] payload) : System.Buffers.IMemoryOwner<byte>
    {
        public Memory<byte> Memory => payload;

        public void Dispose()
        {
        }
    }

    public static async Task<int> WaitAsync(int milliseconds)
    {
        await Task.Delay(milliseconds);
        return milliseconds;
    }

    /// <summary>Reports its worker's pid, then runs until cancelled (or its worker dies).</summary>
    public static async Task<int> HoldAsync(IProgress<int> running, CancellationToken cancellationToken)
    {
        running.Report(Environment.ProcessId);
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    /// <summary>CPU-bound: a fixed amount of arithmetic, no allocation.</summary>
    public static Task<long> SpinAsync(long iterations) => Task.FromResult(Spin(iterations));

    public static long Spin(long iterations)
    {
        var x = 0x9E3779B97F4A7C15UL;
        for (long i = 0; i < iterations; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }

        return (long)(x & 0x7FFFFFFF);
    }
}
