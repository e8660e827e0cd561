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

    /// <summary>Makes <paramref name="length"/> bytes from <paramref name="seed"/> (the same bytes as <see cref="Make"/>).</summary>
    public static Task<byte[]> MakeAsync(int length, int seed) => Task.FromResult(Make(length, seed));

    public static byte[] Make(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Digest(byte[] data) => $"{data.Length}:{Convert.ToHexString(SHA256.HashData(data))}";
}
