using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.IntegrationTests;

public sealed class TelemetryTests
{

    [Fact]
    public async Task One_trace_holds_the_callers_span_the_parents_job_span_and_the_workers_span()
    {
        var exported = new List<Activity>();
        using var caller = new ActivitySource("TelemetryTests.Caller");
        // Listeners are process-wide and other tests run jobs too: keep only this test's trace.
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .SetSampler(new ParentBasedSampler(new OnlyNamedRoots("handle request")))
            .AddSource(caller.Name).AddProcessPoolInstrumentation().AddInMemoryExporter(exported).Build();
        await using var pool = await ProcessPool.StartAsync(o => o.Processes = 1, workers => workers.ConfigureWorkerHost(TracedWorker.Configure));

        TracedJobs.Observed seen;
        ActivityTraceId traceId;
        ActivitySpanId callerSpan;
        RemoteJobException failure;
        using (var request = caller.StartActivity("handle request")!)
        {
            request.AddBaggage("tenant", "acme");
            (traceId, callerSpan) = (request.TraceId, request.SpanId);
            seen = await pool.ApplyAsync(TracedJobs.ObserveAsync).WaitAsync(TestPools.HangGuard);
            failure = await Assert.ThrowsAsync<RemoteJobException>(() => pool.ApplyAsync(Jobs.ThrowInvalidOperationAsync, "traced failure").WaitAsync(TestPools.HangGuard));
        }

        var workerSpans = await pool.ApplyAsync(TracedWorker.ReadExportedAsync).WaitAsync(TestPools.HangGuard);

        var job = Assert.Single(exported, a => a.OperationName == JobActivityName && a.TraceId == traceId && a.GetTagItem(Tags.Outcome) as string == "success");
        Assert.Equal((callerSpan, ActivityKind.Client), (job.ParentSpanId, job.Kind));
        Assert.Equal($"{typeof(TracedJobs).FullName}.{nameof(TracedJobs.ObserveAsync)}", job.GetTagItem(Tags.Job));
        Assert.Equal("success", job.GetTagItem(Tags.Outcome));
        Assert.Equal(seen.ProcessId, job.GetTagItem(Tags.WorkerProcessId));

        var execute = Assert.Single(workerSpans, s => s.TraceId == traceId.ToHexString() && s.ParentSpanId == job.SpanId.ToHexString());
        Assert.Equal((job.SpanId.ToHexString(), ProcessPoolDiagnostics.ExecuteActivityName, "Server"), (execute.ParentSpanId, execute.Name, execute.Kind));
        Assert.Equal(seen.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), execute.ProcessId);
        Assert.NotEqual(Environment.ProcessId, seen.ProcessId);

        // Inside the job, the current activity is the worker's span, and the caller's baggage came along.
        Assert.Equal((traceId.ToHexString(), execute.SpanId, "acme"), (seen.TraceId, seen.SpanId, seen.Tenant));

        Assert.Equal(2, workerSpans.Count(s => s.TraceId == traceId.ToHexString())); // both jobs ran in the caller's trace
        var failed = Assert.Single(exported, a => a.OperationName == JobActivityName && a.TraceId == traceId && a.GetTagItem(Tags.Outcome) as string == "failed" && a.Status == ActivityStatusCode.Error
            && (string?)a.GetTagItem(Tags.Job) == $"{typeof(Jobs).FullName}.{nameof(Jobs.ThrowInvalidOperationAsync)}");
        Assert.Contains(failed.Events, e => e.Name == "exception");
        Assert.Contains("traced failure", failure.Message);
    }

    [Fact]
    public async Task Each_instrument_reports_what_the_pool_did()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddProcessPool(o => o.Processes = 2);
        using var host = builder.Build();
        var meters = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var submitted = new MetricCollector<long>(meters, MeterName, Instruments.JobsSubmitted);
        using var completed = new MetricCollector<long>(meters, MeterName, Instruments.JobsCompleted);
        using var duration = new MetricCollector<double>(meters, MeterName, Instruments.JobDuration);
        using var queueWait = new MetricCollector<double>(meters, MeterName, Instruments.QueueWait);
        using var queued = new MetricCollector<long>(meters, MeterName, Instruments.JobsQueued);
        using var inFlight = new MetricCollector<long>(meters, MeterName, Instruments.JobsInFlight);
        using var live = new MetricCollector<long>(meters, MeterName, Instruments.WorkersLive);
        using var started = new MetricCollector<long>(meters, MeterName, Instruments.WorkersStarted);
        using var exited = new MetricCollector<long>(meters, MeterName, Instruments.WorkersExited);
        await host.StartAsync();
        var pool = host.Services.GetRequiredService<IProcessPool>();

        Assert.Equal(3, (await pool.Map(Jobs.SquareAsync, [1, 2, 3]).ToListAsync().WaitAsync(TestPools.HangGuard)).Count);
        await Assert.ThrowsAsync<RemoteJobException>(() => pool.ApplyAsync(Jobs.ThrowInvalidOperationAsync, "x").WaitAsync(TestPools.HangGuard));
        await Assert.ThrowsAsync<TimeoutException>(() => pool.WithTimeout(TimeSpan.FromMilliseconds(50)).ApplyAsync(Jobs.WaitForCancellationAsync, 1).WaitAsync(TestPools.HangGuard));
        live.RecordObservableInstruments();
        queued.RecordObservableInstruments();
        inFlight.RecordObservableInstruments();
        await host.StopAsync();
        await exited.WaitForMeasurementsAsync(minCount: 2).WaitAsync(TestPools.HangGuard);

        Assert.Equal(5, submitted.GetMeasurementSnapshot().EvaluateAsCounter());
        var outcomes = completed.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags[Tags.Outcome]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(new Dictionary<string, long> { ["success"] = 3, ["failed"] = 1, ["timed_out"] = 1 }, outcomes);
        Assert.Equal(5, duration.GetMeasurementSnapshot().Count);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.True(m.Value >= 0));
        Assert.Equal(5, queueWait.GetMeasurementSnapshot().Count);
        Assert.Equal(2, live.LastMeasurement!.Value);
        Assert.Equal(0, queued.LastMeasurement!.Value);
        Assert.InRange(inFlight.LastMeasurement!.Value, 0, 1); // the timed-out job may still be ending in its worker
        Assert.True(started.GetMeasurementSnapshot().EvaluateAsCounter() >= 2);
        Assert.All(started.GetMeasurementSnapshot(), m => Assert.Equal(string.Empty, m.Tags[Tags.Pool]));
        Assert.Contains(exited.GetMeasurementSnapshot(), m => (string)m.Tags[Tags.ExitReason]! == "shutdown");
    }

    [Fact]
    public async Task Worker_exits_are_counted_with_their_reason()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddProcessPool(o => (o.Processes, o.MaxTasksPerChild) = (1, 1));
        using var host = builder.Build();
        using var exited = new MetricCollector<long>(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), MeterName, Instruments.WorkersExited);
        await host.StartAsync();
        var pool = host.Services.GetRequiredService<IProcessPool>();

        await pool.ApplyAsync(Jobs.SquareAsync, 2).WaitAsync(TestPools.HangGuard); // its worker retires after one job
        await exited.WaitForMeasurementsAsync(1).WaitAsync(TestPools.HangGuard);
        var running = await TestPools.SentToWorkerAsync<int>(pool, ReliabilityJobs.IgnoreCancellationAsync, [1], CancellationToken.None);
        Process.GetProcessById(pool.Snapshot().Workers.Single(w => w.InFlight == 1).ProcessId!.Value).Kill(); // retiring after this job
        await Assert.ThrowsAsync<WorkerLostException>(() => running.WaitAsync(TestPools.HangGuard));
        await exited.WaitForMeasurementsAsync(2).WaitAsync(TestPools.HangGuard);
        await host.StopAsync();
        await exited.WaitForMeasurementsAsync(3).WaitAsync(TestPools.HangGuard);

        Assert.Equal(["recycle", "crash", "shutdown"], exited.GetMeasurementSnapshot().Select(m => (string)m.Tags[Tags.ExitReason]!));
    }

    /// <summary>Regression: worker spans carried service.name 'unknown_service:dotnet' instead of the application's resource.</summary>
    [Fact]
    public async Task Workers_report_the_applications_service_name_and_their_own_instance()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "Billing" });
        builder.Services.AddProcessPool("reports", o => o.Processes = 1);
        using var host = builder.Build();
        await host.StartAsync();
        var pool = host.Services.GetRequiredKeyedService<IProcessPool>("reports");

        var (service, attributes) = await pool.ApplyAsync(LoggingJobs.ReadResourceAsync).WaitAsync(TestPools.HangGuard);
        await host.StopAsync();

        Assert.Equal("Billing", service);
        Assert.Contains("processpool.pool.name=reports", attributes);
        Assert.Contains("processpool.worker.id=1", attributes);
        Assert.Contains("service.instance.id=", attributes);
    }

    /// <summary>Regression: a worker's stderr burst (a stack trace) arrived as one warning record per line.</summary>
    [Fact]
    public async Task A_burst_of_a_workers_standard_error_reaches_the_log_as_one_record()
    {
        using var loggerFactory = new LoggerFactory();
        var logs = new FakeLogCollector();
        loggerFactory.AddProvider(new FakeLoggerProvider(logs));
        await using var pool = await ProcessPool.StartAsync(new ProcessPoolOptions { Processes = 1 }, loggerFactory);

        await pool.ApplyAsync(LoggingJobs.WriteStandardErrorAsync, 20).WaitAsync(TestPools.HangGuard);
        await TestPools.WaitUntilAsync(() => logs.GetSnapshot().Any(r => r.Message.Contains("stderr line 19", StringComparison.Ordinal)));

        var record = Assert.Single(logs.GetSnapshot(), r => r.Message.Contains("stderr line", StringComparison.Ordinal));
        Assert.Equal((LogLevel.Warning, "WorkerErrorOutput"), (record.Level, record.Id.Name));
        Assert.All(Enumerable.Range(0, 20), i => Assert.Contains($"stderr line {i}", record.Message, StringComparison.Ordinal));
    }

    /// <summary>UTF-8 end to end: text a job prints with non-ASCII characters (a Windows console would write its OEM code page) and a log entry's.</summary>
    [Fact]
    public async Task Non_ASCII_text_a_worker_prints_or_logs_reaches_the_parents_log_intact()
    {
        const string Text = "Grüße, naïve café — 日本語 ✓ ΔΣ";
        using var loggerFactory = new LoggerFactory();
        var logs = new FakeLogCollector();
        loggerFactory.AddProvider(new FakeLoggerProvider(logs));
        await using var pool = await ProcessPool.StartAsync(new ProcessPoolOptions { Processes = 1 }, loggerFactory);

        await pool.ApplyAsync(LoggingJobs.PrintAsync, Text).WaitAsync(TestPools.HangGuard);
        await pool.ApplyAsync(LoggingJobs.LogAsync, Text).WaitAsync(TestPools.HangGuard);
        await TestPools.WaitUntilAsync(() => logs.GetSnapshot().Count(r => r.Message.Contains(Text, StringComparison.Ordinal)) >= 3);

        var records = logs.GetSnapshot().Where(r => r.Message.Contains(Text, StringComparison.Ordinal)).Select(r => r.Id.Name).ToList();
        Assert.Contains("WorkerOutput", records);      // its standard output
        Assert.Contains("WorkerErrorOutput", records); // its standard error
        Assert.Contains(records, name => name is not "WorkerOutput" and not "WorkerErrorOutput"); // its logger
    }

    /// <summary>WaitForDebugger: the pool names the waiting worker's pid, the worker says it waits, then runs jobs once the wait is over.</summary>
    [Fact]
    public async Task A_worker_that_waits_for_a_debugger_says_so_with_its_pid_and_then_runs_jobs()
    {
        using var loggerFactory = new LoggerFactory();
        var logs = new FakeLogCollector();
        loggerFactory.AddProvider(new FakeLoggerProvider(logs));
        await using var pool = await ProcessPool.StartAsync(new ProcessPoolOptions { Processes = 1, WaitForDebugger = TimeSpan.FromSeconds(0.5) }, loggerFactory);

        var pid = await pool.ApplyAsync(Jobs.GetProcessIdAsync).WaitAsync(TestPools.HangGuard);

        var waits = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "WorkerWaitsForDebugger");
        Assert.Contains($"(pid {pid}) waits up to 0.5 s for a debugger", waits.Message, StringComparison.Ordinal);
        await TestPools.WaitUntilAsync(() => logs.GetSnapshot().Any(r => r.Message.Contains($"ProcessPool worker {pid}: waiting up to 0.5 s for a debugger", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_workers_log_entry_reaches_the_parents_logger_with_the_worker_in_scope()
    {
        using var loggerFactory = new LoggerFactory();
        var logs = new FakeLogCollector();
        loggerFactory.AddProvider(new FakeLoggerProvider(logs));
        await using var pool = await ProcessPool.StartAsync(new ProcessPoolOptions { Processes = 1 }, loggerFactory);

        var pid = await pool.ApplyAsync(LoggingJobs.LogAsync, "from the worker").WaitAsync(TestPools.HangGuard);

        var record = Assert.Single(logs.GetSnapshot(), r => r.Message.Contains("from the worker", StringComparison.Ordinal));
        Assert.Equal((typeof(LoggingJobs).FullName, LogLevel.Warning, 42), (record.Category, record.Level, record.Id.Id));
        Assert.Equal($"hello from the worker in {pid}", record.Message);
        var scope = record.Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().SelectMany(s => s).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(pid, scope["ProcessPool.ProcessId"]);
        Assert.Equal(1, scope["ProcessPool.WorkerId"]);
    }

    [Fact]
    public async Task The_health_check_degrades_with_lost_workers_and_recovers_when_they_are_replaced()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"health-{Guid.NewGuid():N}");
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddProcessPool(o => (o.Processes, o.EnvironmentVariables["CRASHLOOP_MARKER"]) = (2, marker))
                .AddWorkerInitializer<FailWhileMarkerExistsInitializer>();
            builder.Services.AddHealthChecks().AddProcessPoolHealthCheck();
            using var host = builder.Build();
            await host.StartAsync();
            var health = host.Services.GetRequiredService<HealthCheckService>();
            var engine = host.Services.GetRequiredService<IProcessPool>();
            var pids = TestPools.ReadyWorkerPids(engine);
            await File.WriteAllTextAsync(marker, "from now on, starts fail");

            var healthy = await health.CheckHealthAsync();
            Assert.Equal(HealthStatus.Healthy, healthy.Status);
            Assert.Equal("Process pool 'default' has all 2 workers ready.", healthy.Entries["processpool"].Description);
            Process.GetProcessById(pids[0]).Kill();
            await TestPools.WaitUntilAsync(() => engine.Snapshot().ReadyWorkers == 1); // its replacements fail to start while the marker exists
            var degraded = await health.CheckHealthAsync();
            Assert.Equal(HealthStatus.Degraded, degraded.Status);
            Assert.StartsWith("Process pool 'default'", degraded.Entries["processpool"].Description, StringComparison.Ordinal);
            Process.GetProcessById(pids[1]).Kill();
            await TestPools.WaitUntilAsync(() => engine.Snapshot().ReadyWorkers == 0);
            var down = await health.CheckHealthAsync();
            Assert.Equal(HealthStatus.Unhealthy, down.Status);
            Assert.Equal(0, down.Entries["processpool"].Data["ready"]);

            File.Delete(marker); // the next start succeeds
            await TestPools.WaitUntilAsync(() => engine.Snapshot().ReadyWorkers == 2);
            Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
            await host.StopAsync();
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task The_status_snapshot_shows_workers_queues_and_counts()
    {
        await using var pool = await ProcessPool.StartAsync(o => (o.Processes, o.ChildConcurrency) = (2, 1));
        using var release = new CancellationTokenSource();
        var first = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [1], release.Token);
        var second = await TestPools.SentToWorkerAsync<int>(pool, Jobs.WaitForCancellationAsync, [2], release.Token);
        var waiting = pool.ApplyAsync(Jobs.SquareAsync, 3);

        var busy = pool.Snapshot();
        await release.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(first, second).WaitAsync(TestPools.HangGuard));
        Assert.Equal(9, await waiting.WaitAsync(TestPools.HangGuard));
        await TestPools.WaitUntilAsync(() => pool.Snapshot().InFlight == 0); // the cancelled jobs' slots free when their workers confirm
        var idle = pool.Snapshot();

        Assert.Equal((2, 2, 2, 1, 0), (busy.Workers.Count, busy.ReadyWorkers, busy.InFlight, busy.Queued, busy.WorkerRestarts));
        Assert.All(busy.Workers, w => Assert.Equal((WorkerState.Ready, 1), (w.State, w.InFlight)));
        Assert.Equal(TestPools.WorkerPids(pool).Order(), busy.Workers.Select(w => w.ProcessId!.Value).Order());
        Assert.All(busy.Workers, w => Assert.Equal(0, w.Queue));
        Assert.Equal((0, 0, 3L), (idle.Queued, idle.InFlight, idle.Workers.Sum(w => w.Completed)));
        Assert.True(idle.IsAcceptingJobs);
    }
}

/// <summary>Samples the root spans of one name (and, under a parent-based sampler, their descendants) only.</summary>
public sealed class OnlyNamedRoots(string name) : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        new(samplingParameters.Name == name ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
}

/// <summary>Tracing in the worker's own host, with spans kept in the worker's memory for the test to read.</summary>
public static class TracedWorker
{
    private static readonly List<Activity> Exported = [];

    public static void Configure(IHostApplicationBuilder worker) =>
        worker.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddProcessPoolInstrumentation().AddInMemoryExporter(Exported));

    public static Task<SpanInfo[]> ReadExportedAsync()
    {
        lock (Exported)
        {
            return Task.FromResult(Exported.Select(a => new SpanInfo(
                a.TraceId.ToHexString(), a.SpanId.ToHexString(), a.ParentSpanId.ToHexString(), a.OperationName, a.Kind.ToString(), a.GetTagItem(Tags.WorkerProcessId)?.ToString())).ToArray());
        }
    }
}

public sealed record SpanInfo(string TraceId, string SpanId, string ParentSpanId, string Name, string Kind, string? ProcessId);

public static class TracedJobs
{
    public sealed record Observed(string? TraceId, string? SpanId, string? Tenant, int ProcessId);

    public static Task<Observed> ObserveAsync() => Task.FromResult(new Observed(
        Activity.Current?.TraceId.ToHexString(), Activity.Current?.SpanId.ToHexString(), Activity.Current?.GetBaggageItem("tenant"), Environment.ProcessId));
}

public static partial class LoggingJobs
{
    public static Task<int> LogAsync(string text, IServiceProvider services, CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LoggingJobs).FullName!);
        Hello(logger, text, Environment.ProcessId);
        return Task.FromResult(Environment.ProcessId);
    }

    /// <summary>Prints <paramref name="text"/> on the worker's standard output and standard error.</summary>
    public static Task<int> PrintAsync(string text)
    {
        Console.Out.WriteLine(text);
        Console.Out.Flush();
        Console.Error.WriteLine(text);
        Console.Error.Flush();
        return Task.FromResult(text.Length);
    }

    public static Task<(string? Service, string? Attributes)> ReadResourceAsync() =>
        Task.FromResult((Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME"), Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES")));

    /// <summary>Prints lines to the worker's standard error in one go, as a crash report would.</summary>
    public static async Task WriteStandardErrorAsync(int lines)
    {
        var text = string.Join(Environment.NewLine, Enumerable.Range(0, lines).Select(i => $"stderr line {i}"));
        await Console.Error.WriteLineAsync(text);
    }

    [LoggerMessage(42, LogLevel.Warning, "hello {Text} in {Pid}")]
    private static partial void Hello(ILogger logger, string text, int pid);
}
