using System.Diagnostics;
using ProcessPools.Orleans;

namespace ProcessPools.ClusterTests;

/// <summary>The cluster pool against a real Orleans test cluster whose silos run real worker processes.</summary>
[Collection(nameof(ClusterGroup))]
public sealed class ClusterPoolTests(ClusterFixture fixture)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jobs_and_a_map_run_on_the_workers_of_every_silo_in_input_order()
    {
        Assert.Equal(49, await fixture.Pool.ApplyAsync(ClusterJobs.SquareAsync, 7));

        var tags = await fixture.Pool.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 20, ct), Enumerable.Range(0, 200));

        Assert.Equal(Enumerable.Range(0, 200), tags.Select(ClusterJobs.ItemOf));
        var silos = await fixture.SiloOfWorkersAsync();
        var used = tags.Select(t => silos.GetValueOrDefault(ClusterJobs.PidOf(t), "unknown")).Distinct().ToArray();
        Assert.DoesNotContain("unknown", used);
        Assert.True(used.Length >= 2, $"the map ran on {used.Length} silo(s): {string.Join(", ", used)}");
        Assert.All(tags, t => Assert.NotEqual(Environment.ProcessId, ClusterJobs.PidOf(t)));
    }

    [Fact]
    public async Task A_silo_can_be_the_front_end_beside_its_own_local_pool()
    {
        var silo = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Primary!.SiloAddress);
        var local = silo.GetRequiredService<IProcessPool>();
        var cluster = silo.GetRequiredKeyedService<IProcessPool>("cluster");
        Assert.NotSame(local, cluster);

        var tags = await cluster.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 20, ct), Enumerable.Range(0, 120));

        Assert.Equal(Enumerable.Range(0, 120), tags.Select(ClusterJobs.ItemOf));
        var silos = await fixture.SiloOfWorkersAsync();
        Assert.Equal(2, tags.Select(t => silos.GetValueOrDefault(ClusterJobs.PidOf(t), "unknown")).Where(s => s != "unknown").Distinct().Count());
        Assert.All((await local.GetStatusAsync(TestContext.Current.CancellationToken)).Workers, w => Assert.Null(w.Node)); // the silo's own pool is still a local pool
    }

    [Fact]
    public async Task As_completed_gives_every_index_once_and_progress_counts_them()
    {
        var map = fixture.Pool.Map(ClusterJobs.SquareAsync, Enumerable.Range(0, 5000));
        var seen = new HashSet<int>();
        await foreach (var (index, square) in map.AsCompleted())
        {
            Assert.True(seen.Add(index), $"index {index} answered twice");
            Assert.Equal(index * index, square);
        }

        Assert.Equal(5000, seen.Count);
        Assert.Equal(new MapProgress { Succeeded = 5000, Total = 5000 }, map.Progress);
    }

    [Fact]
    public async Task A_remote_exception_keeps_its_type_message_and_stack_across_both_hops()
    {
        var error = await Assert.ThrowsAsync<RemoteJobException>(() => fixture.Pool.ApplyAsync(ClusterJobs.ThrowAsync, "no such invoice"));

        Assert.Equal("System.InvalidOperationException", error.RemoteType);
        Assert.Equal("no such invoice", error.RemoteMessage);
        Assert.Contains(nameof(ClusterJobs.ThrowAsync), error.RemoteStackTrace);
        Assert.True(error.Is<InvalidOperationException>());

        // In a map, the first failure ends it with the same exception.
        var inMap = await Assert.ThrowsAsync<RemoteJobException>(async () => await fixture.Pool.Map(ClusterJobs.ThrowAsync, ["a", "b"]));
        Assert.Equal("System.InvalidOperationException", inMap.RemoteType);
    }

    /// <summary>
    /// A worker that dies on its silo fails the job with the exception a local pool throws, its facts kept: the pid, the
    /// exit code (stated once in the message), the silo's reason and the worker's last standard error lines.
    /// </summary>
    [Fact]
    public async Task A_lost_worker_keeps_its_exit_code_reason_and_standard_error_across_the_cluster()
    {
        var lost = await Assert.ThrowsAsync<WorkerLostException>(() => fixture.NoRetry.ApplyAsync(ClusterJobs.ExitAsync, "out of patience", 3, Token));

        Assert.Equal(3, lost.ExitCode);
        Assert.NotEqual(0, lost.ProcessId);
        Assert.NotEqual(Environment.ProcessId, lost.ProcessId);
        Assert.Equal(typeof(ClusterJobs).FullName + "." + nameof(ClusterJobs.ExitAsync), lost.JobName);
        Assert.Matches(@"^on silo \S+ closed its channel \(exit code 3\)$", lost.Reason);
        Assert.Contains("out of patience", lost.StandardErrorTail);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(lost.Message, "exit code"));
        Assert.Contains("out of patience", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_result_the_caller_could_not_read_back_is_refused_before_anything_is_sent()
    {
        var apply = Assert.Throws<ArgumentException>(() => { _ = fixture.Pool.ApplyAsync(ClusterJobs.MakeShapeAsync, 2.0, Token); });
        var map = Assert.Throws<ArgumentException>(() => { _ = fixture.Pool.Map(ClusterJobs.MakeShapeAsync, [1.0, 2.0], Token); });

        Assert.Contains($"({typeof(Shape)}) could not be read back from its worker", apply.Message, StringComparison.Ordinal);
        Assert.Equal(apply.Message, map.Message);
        Assert.Equal(9, await fixture.Pool.ApplyAsync(ClusterJobs.SquareAsync, 3, Token)); // the pool carries on
    }

    [Fact]
    public async Task Cancellation_crosses_the_cluster_into_the_worker()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"processpool-cancel-{Guid.NewGuid():N}");
        var cancelled = WaitForFileAsync(marker);
        using var cts = new CancellationTokenSource();
        var job = fixture.Pool.ApplyAsync(ClusterJobs.WaitForCancellationAsync, marker, cts.Token);
        await Task.Delay(500, Token); // let it reach a worker
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => job);
        var pid = await cancelled.WaitAsync(TimeSpan.FromSeconds(30), Token);
        Assert.NotEqual(Environment.ProcessId, pid);
        File.Delete(marker);
    }

    [Fact]
    public async Task A_timeout_cancels_the_job_in_its_worker()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"processpool-timeout-{Guid.NewGuid():N}");
        var cancelled = WaitForFileAsync(marker);
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => fixture.Pool.WithTimeout(TimeSpan.FromSeconds(1)).ApplyAsync(ClusterJobs.WaitForCancellationAsync, marker, Token));

        Assert.Contains("did not finish within", error.Message);
        await cancelled.WaitAsync(TimeSpan.FromSeconds(30), Token);
        File.Delete(marker);
    }

    [Fact]
    public async Task One_trace_runs_from_the_caller_through_the_grain_into_the_silos_pool()
    {
        var spans = new System.Collections.Concurrent.ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            // Orleans starts its call's spans (and so carries the trace into the grain) only for a listener of its sources.
            ShouldListenTo = source => source.Name == ProcessPoolDiagnostics.ActivitySourceName || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        using var caller = new Activity("caller").Start();

        await fixture.Pool.ApplyAsync(ClusterJobs.SquareAsync, 3);
        caller.Stop();

        // caller -> the front end's job span -> Orleans' call (client, then server on the silo) -> the silo pool's job span,
        // which is the parent of the worker's span (the local pool's telemetry tests follow that hop).
        var trace = spans.Where(s => s.TraceId == caller.TraceId).ToArray();
        var front = Assert.Single(trace, s => s.OperationName == ProcessPoolDiagnostics.JobActivityName && s.ParentSpanId == caller.SpanId);
        Assert.IsType<string>(front.GetTagItem("processpool.silo"));
        var call = Assert.Single(trace, s => s.ParentSpanId == front.SpanId && s.Kind == ActivityKind.Client);
        var served = Assert.Single(trace, s => s.ParentSpanId == call.SpanId && s.Kind == ActivityKind.Server);
        Assert.Single(trace, s => s.OperationName == ProcessPoolDiagnostics.JobActivityName && s.ParentSpanId == served.SpanId);
    }

    [Fact]
    public async Task A_pool_no_silo_runs_fails_its_calls_with_a_message_that_names_it()
    {
        var pool = fixture.Cluster.Client.ServiceProvider.GetRequiredKeyedService<IProcessPool>("no-such-pool");

        var single = await Assert.ThrowsAsync<InvalidOperationException>(() => pool.ApplyAsync(ClusterJobs.SquareAsync, 3));
        Assert.Contains("'reports'", single.Message);
        Assert.Contains("AddProcessPoolExecution", single.Message);

        var inMap = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pool.Map(ClusterJobs.SquareAsync, [1, 2, 3]));
        Assert.Contains("'reports'", inMap.Message);
    }

    [Fact]
    public void Bad_arguments_and_progress_jobs_are_refused_at_the_call_site()
    {
        // Thrown by the call itself, not by its task: nothing was sent.
        var wrongType = Assert.Throws<ArgumentException>(void () => _ = fixture.Pool.InvokeAsync<int>(
            JobTarget.FromMethod(typeof(ClusterJobs).GetMethod(nameof(ClusterJobs.SquareAsync))!), ["seven"], null, CancellationToken.None));
        Assert.Contains("must be System.Int32", wrongType.Message);

        var progress = Assert.Throws<ArgumentException>(void () => _ = fixture.Pool.InvokeAsync<int>(
            JobTarget.FromMethod(typeof(ClusterJobs).GetMethod(nameof(ClusterJobs.ReportAsync))!), [3, null], null, CancellationToken.None));
        Assert.Contains("IProgress<T>", progress.Message);
    }

    internal static async Task<int> WaitForFileAsync(string path)
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path));
        watcher.Created += (_, _) => created.TrySetResult();
        watcher.Changed += (_, _) => created.TrySetResult();
        watcher.EnableRaisingEvents = true;
        if (!File.Exists(path))
        {
            await created.Task;
        }

        for (var attempt = 0; ; attempt++)
        {
            var text = await File.ReadAllTextAsync(path);
            if (int.TryParse(text, out var pid))
            {
                return pid;
            }

            await Task.Yield(); // written but not yet flushed
        }
    }
}

[CollectionDefinition(nameof(ClusterGroup))]
public sealed class ClusterGroup : ICollectionFixture<ClusterFixture>;
