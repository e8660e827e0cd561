using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ProcessPools.IntegrationTests;

/// <summary>Jobs that take and return large binary payloads, run in worker processes.</summary>
public static class SharedMemoryJobs
{
    /// <summary>The payload's length and SHA-256, as the worker received it.</summary>
    public static Task<string> DigestAsync(byte[] data) => Task.FromResult($"{data.Length}:{Convert.ToHexString(SHA256.HashData(data))}");

    /// <summary>Answers the payload it was given.</summary>
    public static Task<byte[]> EchoAsync(byte[] data) => Task.FromResult(data);

    /// <summary>Answers the payload after a pause, so that it is in flight when a worker is killed.</summary>
    public static async Task<byte[]> EchoLaterAsync(byte[] data, int milliseconds)
    {
        await Task.Delay(milliseconds);
        return data;
    }

    /// <summary>
    /// The identity of the array under a memory argument (lent ones come from the worker's reused buffers), and the
    /// argument's digest, read while the job runs.
    /// </summary>
    public static Task<(int Array, string Digest)> InspectMemoryAsync(ReadOnlyMemory<byte> data) =>
        Task.FromResult((MemoryMarshal.TryGetArray(data, out var segment) ? RuntimeHelpers.GetHashCode(segment.Array) : 0, $"{data.Length}:{Convert.ToHexString(SHA256.HashData(data.Span))}"));

    /// <summary>Answers the memory it was lent, after a pause (the answer is written before the memory is taken back).</summary>
    public static async Task<ReadOnlyMemory<byte>> EchoMemoryAsync(ReadOnlyMemory<byte> data)
    {
        await Task.Yield();
        return data;
    }

    /// <summary>Makes <paramref name="length"/> bytes from <paramref name="seed"/> (the same bytes as <see cref="Make"/>).</summary>
    public static Task<byte[]> MakeAsync(int length, int seed) => Task.FromResult(Make(length, seed));

    public static byte[] Make(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Digest(byte[] data) => $"{data.Length}:{Convert.ToHexString(SHA256.HashData(data))}";

    private static int s_disposedOwners;

    /// <summary>
    /// Answers <see cref="Make"/>'s bytes in a block rented from the shared memory pool, handed over to the worker, which
    /// disposes it once written (counted by <see cref="DisposedOwnersAsync"/>).
    /// </summary>
    public static Task<System.Buffers.IMemoryOwner<byte>> MakeOwnedAsync(int length, int seed)
    {
        var owner = new CountedOwner(System.Buffers.MemoryPool<byte>.Shared.Rent(length), length);
        new Random(seed).NextBytes(owner.Memory.Span);
        return Task.FromResult<System.Buffers.IMemoryOwner<byte>>(owner);
    }

    /// <summary>As <see cref="MakeOwnedAsync"/> with the length as seed: one argument, for a map.</summary>
    public static Task<System.Buffers.IMemoryOwner<byte>> MakeOwnedOfLengthAsync(int length) => MakeOwnedAsync(length, length);

    /// <summary>How many blocks of <see cref="MakeOwnedAsync"/> this worker has disposed.</summary>
    public static Task<int> DisposedOwnersAsync() => Task.FromResult(Volatile.Read(ref s_disposedOwners));

    private sealed class CountedOwner(System.Buffers.IMemoryOwner<byte> rented, int length) : System.Buffers.IMemoryOwner<byte>
    {
        public Memory<byte> Memory => rented.Memory[..length];

        public void Dispose()
        {
            rented.Dispose();
            Interlocked.Increment(ref s_disposedOwners);
        }
    }
}
