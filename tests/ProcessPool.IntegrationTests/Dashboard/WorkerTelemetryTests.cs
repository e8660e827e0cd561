using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ProcessPools.IntegrationTests;

/// <summary>
/// The WebApiSample sending OTLP to a real receiver: the standalone Aspire dashboard from its NuGet package
/// (Aspire.Dashboard.Sdk.linux-x64, restored by PackageDownload), started on free ports and read through its JSON API.
/// </summary>
public sealed class WorkerTelemetryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_trace_holds_the_request_the_job_and_the_workers_execution_and_worker_logs_and_metrics_arrive()
    {
        await using var receiver = await AspireDashboard.StartAsync();
        await using var app = SampleProcess.StartWith(
            new Dictionary<string, string> { ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000", ["OTEL_BSP_SCHEDULE_DELAY"] = "200", ["OTEL_BLRP_SCHEDULE_DELAY"] = "200" },
            "WebApiSample", "--urls", "http://127.0.0.1:0", "--Demo:Enabled=true", $"--Telemetry:OtlpEndpoint={receiver.OtlpGrpc}");
        var listening = await app.WaitForLineAsync(@"Now listening on: (http://127\.0\.0\.1:\d+)", Patience);
        using var http = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value), Timeout = Patience };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("compute/hash?text=abc&rounds=1")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await http.PostAsync("demo/fail?message=telemetry%20check", null)).StatusCode);

        // The request's trace: the request span, the parent's processpool.job span under it, and under that the
        // worker's processpool.job.execute span, from a resource of its own (a worker instance of the same service).
        // Each process exports on its own schedule: wait until every span asserted on below has arrived.
        string[] expected =
        [
            "GET compute/hash", "processpool.job WebApiSample.Jobs.ComputeJobs.HashAsync", "processpool.job.execute WebApiSample.Jobs.ComputeJobs.HashAsync",
            "POST /demo/fail", "processpool.job WebApiSample.Jobs.DemoJobs.FailAsync", "processpool.job.execute WebApiSample.Jobs.DemoJobs.FailAsync",
        ];
        var spans = await receiver.WaitForAsync("traces", doc => expected.All(name => Spans(doc).Any(s => s.Name == name)), Spans);
        var request = Assert.Single(spans, s => s.Name == "GET compute/hash");
        var job = Assert.Single(spans, s => s.Name == "processpool.job WebApiSample.Jobs.ComputeJobs.HashAsync");
        var execute = Assert.Single(spans, s => s.Name == "processpool.job.execute WebApiSample.Jobs.ComputeJobs.HashAsync");
        Assert.Equal((request.TraceId, request.SpanId), (job.TraceId, job.ParentSpanId));
        Assert.Equal((job.TraceId, job.SpanId), (execute.TraceId, execute.ParentSpanId));
        Assert.Equal("WebApiSample", request.Service);
        Assert.Equal("WebApiSample", execute.Service);
        Assert.Matches("-default-worker-[12]$", execute.Instance);
        Assert.NotEqual(request.Instance, execute.Instance);

        // A failed job: an error span with the exception event, in the parent and in the worker.
        var failedJob = Assert.Single(spans, s => s.Name == "processpool.job WebApiSample.Jobs.DemoJobs.FailAsync");
        var failedExecution = Assert.Single(spans, s => s.Name == "processpool.job.execute WebApiSample.Jobs.DemoJobs.FailAsync");
        Assert.Equal((failedJob.SpanId, 2, 2), (failedExecution.ParentSpanId, failedJob.StatusCode, failedExecution.StatusCode));
        Assert.Contains("exception", failedJob.Events);
        Assert.Contains("exception", failedExecution.Events);

        // A worker's log entries (here its initializer's, and its standard error) arrive, naming the worker.
        var logs = await receiver.WaitForAsync("logs", doc => Logs(doc).Any(l => l.Contains("about to fail: telemetry check", StringComparison.Ordinal)) && Logs(doc).Any(l => l.Contains("Blur kernels warmed in worker", StringComparison.Ordinal)), Logs);
        Assert.NotEmpty(logs);

        // Metrics from the application (the pool's instruments) and from every worker (their runtime's).
        var resources = await receiver.WaitForAsync("resources", doc => doc.EnumerateArray().Count(r => r.GetProperty("hasMetrics").GetBoolean()) >= 4, doc => doc.EnumerateArray().ToArray());
        Assert.Contains(resources, r => r.GetProperty("hasMetrics").GetBoolean() && r.GetProperty("instanceId").GetString()!.EndsWith("-images-worker-1", StringComparison.Ordinal));
        Assert.Contains(resources, r => r.GetProperty("hasMetrics").GetBoolean() && !r.GetProperty("instanceId").GetString()!.Contains("-worker-", StringComparison.Ordinal));
        Assert.All(resources, r => Assert.Equal("WebApiSample", r.GetProperty("name").GetString())); // no unknown_service
    }

    private sealed record Span(string Name, string TraceId, string SpanId, string? ParentSpanId, int StatusCode, string[] Events, string Service, string Instance);

    private static Span[] Spans(JsonElement document) =>
        [.. document.GetProperty("data").GetProperty("resourceSpans").EnumerateArray().SelectMany(resource =>
        {
            var attributes = resource.GetProperty("resource").GetProperty("attributes").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("value").GetProperty("stringValue").GetString()!);
            return resource.GetProperty("scopeSpans").EnumerateArray().SelectMany(scope => scope.GetProperty("spans").EnumerateArray()).Select(s => new Span(
                s.GetProperty("name").GetString()!,
                s.GetProperty("traceId").GetString()!,
                s.GetProperty("spanId").GetString()!,
                s.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() : null,
                s.TryGetProperty("status", out var status) && status.TryGetProperty("code", out var code) ? code.GetInt32() : 0,
                s.TryGetProperty("events", out var events) ? [.. events.EnumerateArray().Select(e => e.GetProperty("name").GetString()!)] : [],
                attributes["service.name"],
                attributes["service.instance.id"]));
        })];

    private static string[] Logs(JsonElement document) =>
        [.. document.GetProperty("data").GetProperty("resourceLogs").EnumerateArray()
            .SelectMany(r => r.GetProperty("scopeLogs").EnumerateArray())
            .SelectMany(s => s.GetProperty("logRecords").EnumerateArray())
            .Select(l => $"{l.GetProperty("body").GetProperty("stringValue").GetString()} {string.Join(' ', l.GetProperty("attributes").EnumerateArray().Select(a => a.GetProperty("value").ToString()))}")];

    /// <summary>The standalone Aspire dashboard, as the NuGet package ships it (linux-x64), on free loopback ports.</summary>
    private sealed class AspireDashboard : IAsyncDisposable
    {
        private readonly SampleProcess _process;
        private readonly HttpClient _http;

        private AspireDashboard(SampleProcess process, Uri api, Uri otlpGrpc)
        {
            _process = process;
            OtlpGrpc = otlpGrpc;
            _http = new HttpClient { BaseAddress = api, Timeout = Patience };
        }

        public Uri OtlpGrpc { get; }

        public static async Task<AspireDashboard> StartAsync()
        {
            var metadata = typeof(AspireDashboard).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
            var rid = metadata.GetValueOrDefault("AspireDashboardRid");
            if (string.IsNullOrEmpty(rid))
            {
                TestEnvironment.SkipUnlessCI($"the receiver (Aspire.Dashboard.Sdk.<rid>) is not published for {RuntimeInformation.RuntimeIdentifier}");
            }

            var tools = Path.Combine(metadata["NuGetPackageRoot"]!, $"aspire.dashboard.sdk.{rid}", "13.6.5", "tools");
            var program = Path.Combine(tools, OperatingSystem.IsWindows() ? "Aspire.Dashboard.exe" : "Aspire.Dashboard");
            Assert.True(File.Exists(program), $"{program} is missing: the test project restores it (PackageDownload).");
            var (ui, grpc, httpOtlp) = (FreePort(), FreePort(), FreePort());
            var process = SampleProcess.StartProgram(program, [], tools, new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ui}",
                ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{grpc}",
                ["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://127.0.0.1:{httpOtlp}",
                ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true",
            });
            try
            {
                await process.WaitForLineAsync("OTLP/gRPC listening on", Patience);
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }

            return new AspireDashboard(process, new Uri($"http://127.0.0.1:{ui}/"), new Uri($"http://127.0.0.1:{grpc}"));
        }

        /// <summary>
        /// Reads the receiver's API until what arrived satisfies <paramref name="condition"/>. The receiver raises no
        /// event a test could wait on, so it is read again every 250 ms (exporters batch; the test app exports often).
        /// </summary>
        public async Task<T[]> WaitForAsync<T>(string what, Func<JsonElement, bool> condition, Func<JsonElement, T[]> read)
        {
            using var deadline = new CancellationTokenSource(Patience);
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            var last = string.Empty;
            try
            {
                do
                {
                    last = await _http.GetStringAsync($"api/telemetry/{what}", deadline.Token);
                    var document = JsonDocument.Parse(last).RootElement;
                    if (condition(document))
                    {
                        return read(document);
                    }
                }
                while (await tick.WaitForNextTickAsync(deadline.Token));
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
            }

            throw new Xunit.Sdk.XunitException($"The receiver's {what} never showed what was expected within {Patience}; last: {last[..Math.Min(last.Length, 4000)]}");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _process.DisposeAsync();
        }
    }
}
