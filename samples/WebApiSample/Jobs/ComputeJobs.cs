using System.Security.Cryptography;
using System.Text;

namespace WebApiSample.Jobs;

/// <summary>Jobs of the default pool: static methods, so only their identity and arguments cross into a worker.</summary>
public static class ComputeJobs
{
    /// <summary>CPU-bound: SHA-256 applied <paramref name="rounds"/> times (key stretching).</summary>
    public static Task<HashResult> HashAsync(string text, int rounds, CancellationToken cancellationToken)
    {
        var digest = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < rounds; i++)
        {
            if ((i & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            digest = SHA256.HashData(digest);
        }

        return Task.FromResult(new HashResult(Convert.ToHexStringLower(digest), rounds, Environment.ProcessId));
    }

    /// <summary>CPU-bound: counts the primes below <paramref name="limit"/> with a sieve of Eratosthenes.</summary>
    public static Task<PrimeCount> CountPrimesAsync(int limit, CancellationToken cancellationToken)
    {
        var composite = new bool[limit];
        var count = 0;
        for (var n = 2; n < limit; n++)
        {
            if (composite[n])
            {
                continue;
            }

            count++;
            for (var multiple = (long)n * n; multiple < limit; multiple += n)
            {
                composite[multiple] = true;
            }

            if ((n & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return Task.FromResult(new PrimeCount(limit, count, Environment.ProcessId));
    }

    /// <summary>IO-bound: stands in for a call to a slow service; many run at once in each worker (ChildConcurrency).</summary>
    public static async Task<Fetched> FetchAsync(int item, int delayMilliseconds, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        await Task.Delay(delayMilliseconds, cancellationToken);
        return new Fetched(item, (DateTimeOffset.UtcNow - started).TotalMilliseconds, Environment.ProcessId);
    }
}

public sealed record HashResult(string Sha256, int Rounds, int WorkerProcessId);

public sealed record PrimeCount(int Limit, int Primes, int WorkerProcessId);

public sealed record Fetched(int Item, double Milliseconds, int WorkerProcessId);
