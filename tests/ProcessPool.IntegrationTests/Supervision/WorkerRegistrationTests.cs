using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ProcessPools.IntegrationTests;

public sealed class WorkerRegistrationTests
{
    [Fact]
    public async Task A_job_class_gets_services_registered_by_the_worker_host_configurator()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddProcessPool(o => o.Processes = 2)
            .ConfigureWorkerHost(static worker =>
            {
                worker.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Stamp:Prefix"] = "stamped" });
                worker.Services.AddSingleton<StampFormatter>();
            })
            .AddJob<StampJob>();
        using var host = builder.Build();
        await host.StartAsync();
        var pool = host.Services.GetRequiredService<IProcessPool>();

        StampResult result = await pool.SendAsync(new StampRequest("ada"));
        await host.StopAsync();

        Assert.Equal("stamped:ada", result.Text);
        Assert.NotEqual(Environment.ProcessId, result.ProcessId);
        Assert.InRange(result.WorkerId, 1, 2);
        Assert.Null(host.Services.GetService<StampFormatter>()); // registered in the workers' hosts only
    }

    [Fact]
    public async Task An_unregistered_job_class_fails_at_the_call_site()
    {
        await using var pool = await ProcessPool.StartAsync(o => o.Processes = 1, workers => workers.AddJob<StampJob>());

        var byRequest = Assert.Throws<InvalidOperationException>(() => { _ = pool.SendAsync(new UnhandledRequest()); });
        var byTarget = Assert.Throws<InvalidOperationException>(() => { _ = pool.InvokeAsync<string>(JobTarget.FromJobType(typeof(GreetingJob)), ["x"]); });

        Assert.Contains("No job class", byRequest.Message);
        Assert.Contains(nameof(UnhandledRequest), byRequest.Message);
        Assert.Contains("AddJob<GreetingJob>", byTarget.Message);
        Assert.Equal("stamped?:x", (await pool.SendAsync(new StampRequest("x"))).Text); // the pool carries on
    }

    [Fact]
    public void A_job_class_whose_result_differs_from_its_request_is_refused_at_registration()
    {
        var builder = new ServiceCollection().AddProcessPool();

        var exception = Assert.Throws<ArgumentException>(() => builder.AddJob<MismatchedJob>());

        Assert.Contains("IJobRequest<System.Int32>", exception.Message);
    }

    [Fact]
    public void A_capturing_host_configurator_is_refused_at_registration()
    {
        var builder = new ServiceCollection().AddProcessPool();
        var name = "captured";

#pragma warning disable PP0001 // the generator's build-time warning; this checks the runtime's refusal
        var exception = Assert.Throws<ArgumentException>(() => builder.ConfigureWorkerHost(worker => worker.Properties[name] = name));
#pragma warning restore PP0001

        Assert.Equal("configure", exception.ParamName);
        Assert.Contains("'name'", exception.Message);
    }

    [Fact]
    public async Task The_exception_handler_runs_in_the_worker_and_sees_the_exception()
    {
        await using var pool = await ProcessPool.StartAsync(
            o => o.Processes = 1,
            workers => workers.AddJobExceptionHandler<RecordingHandler>().AddJobExceptionHandler<ThrowingHandler>());

        var failure = await Assert.ThrowsAsync<RemoteJobException>(() => pool.ApplyAsync(HandlerJobs.FailAsync, "disk full"));
        var seen = await pool.ApplyAsync(HandlerJobs.ReadHandledAsync);

        Assert.True(failure.Is<IOException>());
        Assert.Equal("disk full", failure.RemoteMessage); // the throwing second handler changed nothing
        var entry = Assert.Single(seen);
        Assert.Equal(($"{typeof(HandlerJobs).FullName}.{nameof(HandlerJobs.FailAsync)}", "System.IO.IOException", "disk full", "disk full"), (entry.Job, entry.Type, entry.Message, entry.Argument));
        Assert.NotEqual(Environment.ProcessId, entry.ProcessId);
    }
}

public sealed record StampRequest(string Name) : IJobRequest<StampResult>;

public sealed record StampResult(string Text, int ProcessId, int WorkerId);

public sealed record UnhandledRequest : IJobRequest<string>;

public sealed class StampFormatter(IConfiguration configuration)
{
    public string Format(string name) => $"{configuration["Stamp:Prefix"]}:{name}";
}

/// <summary>Takes a service only the configured worker host registers; without it, says so in its answer.</summary>
public sealed class StampJob(IServiceProvider services, WorkerContext context) : IProcessJob<StampRequest, StampResult>
{
    public Task<StampResult> ExecuteAsync(StampRequest argument, CancellationToken cancellationToken)
    {
        var text = services.GetService<StampFormatter>()?.Format(argument.Name) ?? $"stamped?:{argument.Name}";
        return Task.FromResult(new StampResult(text, Environment.ProcessId, context.WorkerId));
    }
}

public sealed class MismatchedJob : IProcessJob<MismatchedRequest, string>
{
    public Task<string> ExecuteAsync(MismatchedRequest argument, CancellationToken cancellationToken) => Task.FromResult("no");
}

public sealed record MismatchedRequest : IJobRequest<int>;

public sealed record HandledFailure(string Job, string Type, string Message, string? Argument, int ProcessId);

public sealed class RecordingHandler : IJobExceptionHandler
{
    internal static readonly List<HandledFailure> Seen = [];

    public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken)
    {
        lock (Seen)
        {
            Seen.Add(new HandledFailure(context.JobName, context.Exception.GetType().FullName!, context.Exception.Message, context.Arguments[0] as string, Environment.ProcessId));
        }

        return ValueTask.CompletedTask;
    }
}

public sealed class ThrowingHandler : IJobExceptionHandler
{
    public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the error tracker is down");
}

public static class HandlerJobs
{
    public static Task<int> FailAsync(string message) => throw new IOException(message);

    public static Task<HandledFailure[]> ReadHandledAsync()
    {
        lock (RecordingHandler.Seen)
        {
            return Task.FromResult(RecordingHandler.Seen.ToArray());
        }
    }
}
