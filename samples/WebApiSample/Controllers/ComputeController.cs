using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ProcessPools;
using WebApiSample.Jobs;

namespace WebApiSample.Controllers;

/// <summary>CPU-heavy and IO-bound work on the default pool; the request thread only awaits.</summary>
[ApiController]
[Route("compute")]
public sealed class ComputeController(IProcessPool pool) : ControllerBase
{
    /// <summary>GET /compute/hash?text=abc&amp;rounds=100000</summary>
    [HttpGet("hash")]
    public Task<HashResult> Hash([Required] string text, [Range(1, 50_000_000)] int rounds = 1, CancellationToken cancellationToken = default) =>
        pool.ApplyAsync(ComputeJobs.HashAsync, text, rounds, cancellationToken);

    /// <summary>GET /compute/primes?limit=1000000</summary>
    [HttpGet("primes")]
    public Task<PrimeCount> Primes([Range(2, 500_000_000)] int limit, CancellationToken cancellationToken = default) =>
        pool.ApplyAsync(ComputeJobs.CountPrimesAsync, limit, cancellationToken);

    /// <summary>POST /compute/primes/batch with a JSON array of limits: one job per limit, results streamed in input order.</summary>
    [HttpPost("primes/batch")]
    public IAsyncEnumerable<PrimeCount> PrimesBatch([FromBody, MinLength(1), MaxLength(10_000)] int[] limits, CancellationToken cancellationToken = default)
    {
        if (limits.Any(l => l is < 2 or > 100_000_000))
        {
            throw new BadHttpRequestException("Each limit must be between 2 and 100000000.");
        }

        return pool.Map(ComputeJobs.CountPrimesAsync, limits, cancellationToken);
    }

    /// <summary>GET /compute/fanout?count=50&amp;delayMs=200: IO-bound jobs, many at once per worker.</summary>
    [HttpGet("fanout")]
    public async Task<FanOutResult> FanOut([Range(1, 10_000)] int count = 50, [Range(0, 60_000)] int delayMs = 200, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var fetched = await pool.StarMap(ComputeJobs.FetchAsync, Enumerable.Range(0, count).Select(i => (i, delayMs)), cancellationToken);
        return new FanOutResult(count, delayMs, clock.Elapsed.TotalMilliseconds, [.. fetched.Select(f => f.WorkerProcessId).Distinct().Order()]);
    }
}

public sealed record FanOutResult(int Count, int DelayMs, double ElapsedMs, int[] WorkerProcessIds);
