using ProcessPools.Generated;

namespace ProcessPools.IntegrationTests;

/// <summary>
/// The compile-time registry at work in a JIT build: calls the source generator sees name their jobs by a
/// generated id and run through generated invokers in the workers; calls it cannot see keep the reflection path;
/// a worker of another build is refused at the handshake.
/// </summary>
public sealed class GeneratedJobTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Calls_the_generator_sees_run_in_workers_under_generated_ids()
    {
        await using var inner = await ProcessPool.StartAsync(o => o.Processes = 2);
        var pool = new RecordingPool(inner);

        Assert.Equal(42, await pool.ApplyAsync(static (int x) => Task.FromResult(x * 2), 21).WaitAsync(TestPools.HangGuard));
        Assert.Equal(49, await pool.ApplyAsync(GeneratedJobs.SquareAsync, 7).WaitAsync(TestPools.HangGuard));
        Assert.Equal(103, await pool.ApplyAsync(PrivateJobAsync, 3).WaitAsync(TestPools.HangGuard));
        Assert.Equal([2, 3, 4], await pool.Map(static (int x) => ValueTask.FromResult(x + 1), [1, 2, 3]).ToListAsync().WaitAsync(TestPools.HangGuard));
        Assert.Equal(["a1", "b2"], await pool.StarMap(static (int a, string b) => Task.FromResult(b + a), [(1, "a"), (2, "b")]).ToListAsync().WaitAsync(TestPools.HangGuard));
        var workerId = await pool.ApplyAsync(static (IServiceProvider services, CancellationToken _) => Task.FromResult(services.GetRequiredService<WorkerContext>().WorkerId)).WaitAsync(TestPools.HangGuard);
        Assert.InRange(workerId, 1, 2);

        Assert.Equal(6, pool.Targets.Count);
        Assert.All(pool.Targets, target => Assert.NotNull(target.GeneratedId));
        Assert.All(pool.Targets, target => Assert.True(GeneratedRegistry.TryGetJob(target.GeneratedId!, out _)));

        // A delegate held in a variable is out of the generator's sight: the reflection path runs it, to the same result.
        Func<int, Task<int>> held = GeneratedJobs.SquareAsync;
        Assert.Equal(64, await pool.ApplyAsync(held, 8).WaitAsync(TestPools.HangGuard));
        Assert.Null(pool.Targets[^1].GeneratedId);
    }

    [Fact]
    public async Task A_dedicated_worker_process_runs_a_generated_job()
    {
        await using var worker = await WorkerProcess.StartAsync(GeneratedJobs.SquareAsync, 12).WaitAsync(TestPools.HangGuard);

        Assert.Equal(144, await worker.Result.WaitAsync(TestPools.HangGuard));
        Assert.NotEqual(Environment.ProcessId, worker.ProcessId);
    }

    [Fact]
    public void This_assembly_registered_its_generated_jobs_and_job_classes()
    {
        Assert.Contains(typeof(GeneratedJobTests).Assembly, GeneratedRegistry.Assemblies);
        Assert.NotEmpty(GeneratedRegistry.Fingerprint);
        Assert.True(GeneratedRegistry.TryGetJobClass(typeof(GreetingJob).AssemblyQualifiedName!, out var greeting));
        Assert.Equal([typeof(string)], greeting.SentTypes);
        Assert.Equal(typeof(string), greeting.ResultType);
    }

    /// <summary>The parent's registry holds an entry its workers' build does not: the workers are refused, with the reason.</summary>
    [Fact]
    public async Task A_worker_of_another_build_is_refused_at_the_handshake()
    {
        await using var app = SampleProcess.StartIn("tests", "ProcessPool.TestApp", "mismatch");
        var exitCode = await app.WaitForExitAsync(TestPools.HangGuard);
        output.WriteLine(app.Output);

        Assert.True(exitCode == 0, app.Output);
        Assert.Contains("REFUSED: ", app.Output);
        Assert.Contains("compile-time job registry", app.Output);
        Assert.Contains("the worker runs a different build of the application than the parent", app.Output);
    }

    private static Task<int> PrivateJobAsync(int x) => Task.FromResult(x + 100);

    /// <summary>A pool that records the target of every call before the real pool runs it.</summary>
    private sealed class RecordingPool(IProcessPool inner) : IProcessPool
    {
        public List<JobTarget> Targets { get; } = [];

        public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken)
        {
            Targets.Add(target);
            return inner.InvokeAsync<TResult>(target, arguments, options, cancellationToken);
        }

        public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken)
        {
            Targets.Add(target);
            return inner.InvokeMany<TResult>(target, argumentSets, options, cancellationToken);
        }

        public PoolResult<TResult> InvokeEach<TItem, TResult>(JobTarget target, IEnumerable<TItem> items, JobOptions? options, CancellationToken cancellationToken)
        {
            Targets.Add(target);
            return inner.InvokeEach<TItem, TResult>(target, items, options, cancellationToken);
        }

        public string Name => inner.Name;

        public ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default) => inner.GetStatusAsync(cancellationToken);
    }
}

public static class GeneratedJobs
{
    public static Task<int> SquareAsync(int x) => Task.FromResult(x * x);
}
