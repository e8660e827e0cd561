using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ProcessPools;
using ProcessPools.Testing;
using WebApiSample.Controllers;

namespace WebApiSample.Tests;

/// <summary>
/// The compute controller unit-tested as an application would: constructed with ProcessPool.Testing's in-process pool
/// instead of worker processes. The jobs still run for real, through the pool's serialization and checks; the pool is
/// told when to answer with a fault, to test what the controller makes of a lost worker or a timeout.
/// </summary>
public sealed class ComputeControllerTests : IAsyncLifetime
{
    private const string AbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    private FakeProcessPool _pool = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    [Fact]
    public async Task Hash_answers_the_jobs_result_and_the_pool_records_the_call()
    {
        var answer = await Controller().Hash("abc", rounds: 1, TestContext.Current.CancellationToken);

        Assert.Equal(AbcSha256, answer.Value!.Sha256);
        var call = Assert.Single(_pool.Calls);
        Assert.Equal("WebApiSample.Jobs.ComputeJobs.HashAsync", call.JobName);
        Assert.Equal(["abc", 1], call.Arguments);
        Assert.Equal(FakeJobOutcome.Succeeded, call.Outcome);
    }

    [Fact]
    public async Task A_lost_worker_answers_503_with_retry_after()
    {
        var controller = Controller();
        _pool.FailNext(FakeFaults.WorkerLost("WebApiSample.Jobs.ComputeJobs.HashAsync"));

        var answer = await controller.Hash("abc", rounds: 1, TestContext.Current.CancellationToken);

        var problem = Assert.IsType<ObjectResult>(answer.Result);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, problem.StatusCode);
        Assert.Equal("1", controller.Response.Headers.RetryAfter.ToString());
        Assert.Equal(FakeJobOutcome.Faulted, Assert.Single(_pool.Calls).Outcome);
    }

    [Fact]
    public async Task A_lost_worker_is_retried_when_the_pool_allows_it()
    {
        await _pool.DisposeAsync();
        _pool = new FakeProcessPool(o => o.Pool.MaxRetries = 1);
        _pool.FailNext(FakeFaults.WorkerLost());

        var answer = await Controller().Primes(limit: 100, TestContext.Current.CancellationToken);

        Assert.Equal(25, answer.Value!.Primes);
        Assert.Equal([FakeJobOutcome.Faulted, FakeJobOutcome.Succeeded], _pool.Calls.Select(c => c.Outcome));
    }

    [Fact]
    public async Task A_job_over_its_timeout_answers_504()
    {
        _pool.FailWhen(call => call.JobName.EndsWith("CountPrimesAsync", StringComparison.Ordinal)
            ? FakeFaults.Timeout(call.JobName, TimeSpan.FromSeconds(30))
            : null);

        var answer = await Controller().Primes(limit: 1_000, TestContext.Current.CancellationToken);

        Assert.Equal(StatusCodes.Status504GatewayTimeout, Assert.IsType<ObjectResult>(answer.Result).StatusCode);
    }

    [Fact]
    public async Task A_job_that_throws_reaches_the_caller_as_a_remote_exception()
    {
        _pool.FailNext(FakeFaults.Remote("WebApiSample.Jobs.ComputeJobs.HashAsync", new InvalidOperationException("disk full")));

        var failure = await Assert.ThrowsAsync<RemoteJobException>(() => Controller().Hash("abc", 1, TestContext.Current.CancellationToken));

        Assert.True(failure.Is<InvalidOperationException>());
        Assert.Equal("disk full", failure.RemoteMessage);
    }

    [Fact]
    public async Task A_batch_streams_one_result_per_limit_in_input_order()
    {
        var counts = new List<int>();
        await foreach (var count in Controller().PrimesBatch([1_000, 10, 100], TestContext.Current.CancellationToken))
        {
            counts.Add(count.Primes);
        }

        Assert.Equal([168, 4, 25], counts);
        Assert.Equal([0, 1, 2], _pool.Calls.Select(c => c.ItemIndex!.Value).Order());
    }

    private ComputeController Controller() => new(_pool) { ControllerContext = new ControllerContext { HttpContext = new DefaultHttpContext() } };
}
