using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using ProcessPools.Testing;

namespace ProcessPools.UnitTests.Testing;

/// <summary>
/// ProcessPool.Testing's pool fails where a real pool fails, with the same exceptions: a capturing lambda and an
/// unserializable argument at the call, a missing job class before anything runs, a job's exception as a
/// RemoteJobException made from the worker's fault payload; timeouts follow the injected clock; maps answer in order.
/// (These run on the reflection path: this project does not run the generator. The sample's tests run the generated one.)
/// </summary>
public sealed class FakeProcessPoolTests
{
    [Fact]
    public async Task A_capturing_lambda_is_refused_at_the_call_with_the_pools_message()
    {
        await using var pool = new FakeProcessPool();
        var factor = Random.Shared.Next(2, 9);

        var refused = Assert.Throws<ArgumentException>(() => { _ = pool.ApplyAsync((int x) => Task.FromResult(x * factor), 1); });

        Assert.Contains("captures", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'factor'", refused.Message, StringComparison.Ordinal);
        Assert.Empty(pool.Calls);
    }

    [Fact]
    public async Task An_argument_that_cannot_be_serialized_fails_at_the_call_and_nothing_runs()
    {
        await using var pool = new FakeProcessPool();

        var refused = Assert.ThrowsAny<ArgumentException>(() => { _ = pool.ApplyAsync(Jobs.Describe, new Unserializable()); });

        Assert.Contains(nameof(Unserializable), refused.Message, StringComparison.Ordinal);
        Assert.Empty(pool.Calls);
    }

    [Fact]
    public async Task A_result_it_could_not_read_back_is_refused_at_the_call_and_nothing_runs()
    {
        await using var pool = new FakeProcessPool();

        var apply = Assert.Throws<ArgumentException>(() => { _ = pool.ApplyAsync(Transport.JobPayloadsTests.ReadBackJobs.MakeAsync, 1.0); });
        var map = Assert.Throws<ArgumentException>(() => { _ = pool.Map(Transport.JobPayloadsTests.ReadBackJobs.MakeAsync, [1.0, 2.0]); });

        Assert.Contains("could not be read back from its worker", apply.Message, StringComparison.Ordinal);
        Assert.Equal(apply.Message, map.Message);
        Assert.Empty(pool.Calls);
    }

    [Fact]
    public async Task A_job_that_throws_arrives_as_the_remote_exception_a_worker_sends_and_handlers_hear_of_it()
    {
        var handler = new RecordingHandler();
        await using var pool = new FakeProcessPool(o => o.WorkerServices.AddSingleton<IJobExceptionHandler>(handler));

        var failure = await Assert.ThrowsAsync<RemoteJobException>(() => pool.ApplyAsync(Jobs.FailAsync, "disk full"));

        Assert.True(failure.Is<InvalidOperationException>());
        Assert.Equal("disk full", failure.RemoteMessage);
        Assert.Contains(nameof(Jobs.FailAsync), failure.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal(FakeJobOutcome.Failed, Assert.Single(pool.Calls).Outcome);
        Assert.Equal(["disk full"], handler.Messages);
    }

    [Fact]
    public async Task A_request_runs_its_registered_job_class_with_worker_services_and_an_unregistered_one_fails_at_the_call()
    {
        await using var pool = new FakeProcessPool(o => o.AddJob<DoubleJob>());
        await using var bare = new FakeProcessPool();

        Assert.Equal(42, await pool.SendAsync(new DoubleRequest(21)));
        Assert.Throws<InvalidOperationException>(() => { _ = bare.SendAsync(new DoubleRequest(1)); });
        Assert.Equal(typeof(DoubleJob).FullName, Assert.Single(pool.Calls).JobName);
    }

    [Fact]
    public async Task A_timeout_follows_the_injected_clock()
    {
        var clock = new FakeTimeProvider();
        await using var pool = new FakeProcessPool(o => (o.TimeProvider, o.Pool.JobTimeout) = (clock, TimeSpan.FromSeconds(30)));

        var call = pool.ApplyAsync(Jobs.WaitForeverAsync);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(call.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        var timedOut = await Assert.ThrowsAsync<TimeoutException>(() => call);
        Assert.Contains("did not finish within 00:00:30", timedOut.Message, StringComparison.Ordinal);
        Assert.Equal(FakeJobOutcome.TimedOut, Assert.Single(pool.Calls).Outcome);
    }

    [Fact]
    public async Task A_cancelled_call_cancels_its_job()
    {
        await using var pool = new FakeProcessPool();
        using var cancel = new CancellationTokenSource();

        var call = pool.ApplyAsync(Jobs.WaitForeverAsync, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(FakeJobOutcome.Cancelled, Assert.Single(pool.Calls).Outcome);
    }

    [Fact]
    public async Task A_map_answers_in_input_order_and_a_faulted_item_fails_the_map_as_in_a_real_pool()
    {
        await using var pool = new FakeProcessPool(o => o.Pool.ChildConcurrency = 4);

        Assert.Equal([1, 4, 9, 16], await pool.Map(Jobs.SquareAsync, [1, 2, 3, 4]));

        pool.FailWhen(call => call.ItemIndex == 2 ? FakeFaults.WorkerLost(call.JobName) : null);
        await Assert.ThrowsAsync<WorkerLostException>(async () => await pool.Map(Jobs.SquareAsync, [1, 2, 3, 4]));
    }

    [Fact]
    public async Task Status_reports_one_in_process_worker_and_a_closed_pool_refuses_calls()
    {
        var pool = new FakeProcessPool(o => o.Name = "images");
        await pool.ApplyAsync(Jobs.SquareAsync, 3);

        var status = await pool.GetStatusAsync(TestContext.Current.CancellationToken);
        Assert.Equal("images", status.Name);
        Assert.Equal(Environment.ProcessId, Assert.Single(status.Workers).ProcessId);
        Assert.Equal(1, status.Workers[0].Completed);

        await pool.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = pool.ApplyAsync(Jobs.SquareAsync, 3); });
    }

    [Fact]
    public async Task AddFakeProcessPool_replaces_the_applications_pool_and_its_hosted_service()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddProcessPool();
        services.AddProcessPool("images", configure: null);
        services.AddFakeProcessPool(o => o.Name = "images");

        await using var provider = services.BuildServiceProvider();
        Assert.IsType<FakeProcessPool>(provider.GetRequiredKeyedService<IProcessPool>("images"));
        Assert.IsNotType<FakeProcessPool>(provider.GetRequiredService<IProcessPool>()); // the default pool is the application's still
        Assert.Single(provider.GetServices<IHostedService>()); // the default pool's; the named one's is gone

        services.AddFakeProcessPool();
        await using var replaced = services.BuildServiceProvider();
        Assert.IsType<FakeProcessPool>(replaced.GetRequiredService<IProcessPool>());
        Assert.Empty(replaced.GetServices<IHostedService>());
    }

    public sealed class Unserializable
    {
        public IntPtr Handle { get; } = IntPtr.Zero;

        public Action Callback { get; } = () => { };
    }

    public sealed record DoubleRequest(int Value) : IJobRequest<int>;

    public sealed class DoubleJob(WorkerContext worker) : IProcessJob<DoubleRequest, int>
    {
        public Task<int> ExecuteAsync(DoubleRequest argument, CancellationToken cancellationToken) => Task.FromResult(argument.Value * 2 + worker.WorkerId);
    }

    private sealed class RecordingHandler : IJobExceptionHandler
    {
        public List<string> Messages { get; } = [];

        public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken)
        {
            Messages.Add(context.Exception.Message);
            return ValueTask.CompletedTask;
        }
    }

    public static class Jobs
    {
        public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);

        public static Task<string> Describe(Unserializable value) => Task.FromResult(value.ToString()!);

        public static Task<int> FailAsync(string message) => throw new InvalidOperationException(message);

        public static async Task<int> WaitForeverAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }
}
