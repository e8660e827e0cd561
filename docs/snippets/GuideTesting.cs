#pragma warning disable CA1812, CA1515, CA1822, CA1852
using Microsoft.Extensions.Time.Testing;
using ProcessPools;
using ProcessPools.Testing;
using Xunit;

await new ReportsTests().RendersAndAnswersALostWorker();
await new ReportsTests().TimesOut();

// snippet: guide-testing-service
public sealed class Reports(IProcessPool pool)
{
    public async Task<string> RenderAsync(int id, CancellationToken ct = default)
    {
        try
        {
            return await pool.ApplyAsync(ReportJobs.RenderAsync, id, ct);
        }
        catch (WorkerLostException)
        {
            return "the report is being retried";
        }
    }
}
// end snippet

public static class ReportJobs
{
    public static Task<string> RenderAsync(int id, CancellationToken ct) => Task.FromResult($"report {id}");

    public static async Task<string> SlowAsync(int id, CancellationToken ct)
    {
        await Task.Delay(Timeout.Infinite, ct);
        return $"report {id}";
    }
}

public sealed class ReportsTests
{
    public async Task RendersAndAnswersALostWorker()
    {
        // snippet: guide-testing-unit
        await using var pool = new FakeProcessPool();
        var reports = new Reports(pool);

        Assert.Equal("report 7", await reports.RenderAsync(7));       // the job ran, serialized as a worker would see it
        Assert.Equal([7], pool.Calls.Single().Arguments);

        pool.FailNext(FakeFaults.WorkerLost());                        // the next job's worker dies
        Assert.Equal("the report is being retried", await reports.RenderAsync(8));
        Assert.Equal(FakeJobOutcome.Faulted, pool.Calls[^1].Outcome);
        // end snippet
    }

    public async Task TimesOut()
    {
        // snippet: guide-testing-timeout
        var clock = new FakeTimeProvider();
        await using var pool = new FakeProcessPool(o =>
        {
            o.TimeProvider = clock;
            o.Pool.JobTimeout = TimeSpan.FromSeconds(30);
        });

        var call = pool.ApplyAsync(ReportJobs.SlowAsync, 1);
        clock.Advance(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<TimeoutException>(() => call);
        // end snippet
    }
}
