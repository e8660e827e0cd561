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
    public Task<ActionResult<HashResult>> Hash([Required] string text, [Range(1, 50_000_000)] int rounds = 1, CancellationToken cancellationToken = default) =>
        AnswerAsync(pool.ApplyAsync(ComputeJobs.HashAsync, text, rounds, cancellationToken));

    /// <summary>GET /compute/primes?limit=1000000</summary>
    [HttpGet("primes")]
    public Task<ActionResult<PrimeCount>> Primes([Range(2, 500_000_000)] int limit, CancellationToken cancellationToken = default) =>
        AnswerAsync(pool.ApplyAsync(ComputeJobs.CountPrimesAsync, limit, cancellationToken));

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

    /// <summary>
    /// A job's result, or what the client can act on when there is none: a lost worker (killed, crashed, out of memory)
    /// is 503 with Retry-After, since the pool replaces the worker at once; a job over its timeout is 504. A job that
    /// threw stays a 500, with its type and message in the log (RemoteJobException).
    /// </summary>
    private async Task<ActionResult<T>> AnswerAsync<T>(Task<T> job)
    {
        try
        {
            return await job;
        }
        catch (WorkerLostException lost)
        {
            Response.Headers.RetryAfter = "1";
            return StatusCode(StatusCodes.Status503ServiceUnavailable, new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The worker process running this request was lost; retry it.",
                Detail = lost.Reason,
            });
        }
        catch (TimeoutException timeout)
        {
            return StatusCode(StatusCodes.Status504GatewayTimeout, new ProblemDetails
            {
                Status = StatusCodes.Status504GatewayTimeout,
                Title = "The job did not finish in time.",
                Detail = timeout.Message,
            });
        }
    }
}

public sealed record FanOutResult(int Count, int DelayMs, double ElapsedMs, int[] WorkerProcessIds);
