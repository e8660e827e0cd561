using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace ProcessPools.IntegrationTests;

/// <summary>The dashboard of the WebApiSample, over real HTTP on loopback, with the sample's real pools.</summary>
public sealed class DashboardHttpTests
{
    [Fact]
    public async Task The_dashboard_shows_every_pool_with_their_worker_pids_under_a_strict_policy_and_refuses_bad_input()
    {
        await using var app = await DashboardApp.StartAsync();
        var http = app.Http;

        var redirect = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = http.BaseAddress }.GetAsync("processpool");
        var page = await http.GetAsync("processpool/");
        var html = await page.Content.ReadAsStringAsync();
        var script = await http.GetAsync("processpool/assets/dashboard.js");
        var missing = await http.GetAsync("processpool/assets/appsettings.json");

        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/processpool/", redirect.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Contains("src=\"assets/dashboard.js\"", html);
        Assert.DoesNotContain("<script>", html); // no inline script
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // The same workers as the app's own status endpoint.
        var pools = await app.PoolsAsync();
        var status = await http.GetFromJsonAsync<JsonElement>("pool/status");
        Assert.Equal(["default", "images"], pools.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        foreach (var name in new[] { "default", "images" })
        {
            var expected = status.GetProperty(name).GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("processId").GetInt32()).Order();
            Assert.Equal(expected, DashboardApp.Pids(DashboardApp.Pool(pools, name)));
        }

        // A failure, found by a search that would be a broken pattern and markup if it were not plain text.
        var marker = $"<b>(boom[{Guid.NewGuid():N}";
        var failed = await http.PostAsync($"demo/fail?message={Uri.EscapeDataString(marker)}", null);
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var found = await http.GetFromJsonAsync<JsonElement>($"processpool/api/v1/pools/default/failures?q={Uri.EscapeDataString(marker[..12])}");
        var failure = Assert.Single(found.GetProperty("failures").EnumerateArray());
        Assert.Equal(marker, failure.GetProperty("message").GetString());
        Assert.Equal("System.InvalidOperationException", failure.GetProperty("exceptionType").GetString());
        Assert.Contains("DemoJobs.FailAsync", failure.GetProperty("stackTrace").GetString());
        Assert.Contains(failure.GetProperty("standardErrorTail").EnumerateArray(), l => l.GetString() == $"about to fail: {marker}");
        Assert.Contains(failure.GetProperty("processId").GetInt32(), DashboardApp.Pids(DashboardApp.Pool(pools, "default")));
        Assert.Empty((await http.GetFromJsonAsync<JsonElement>("processpool/api/v1/pools/default/failures?q=.*")).GetProperty("failures").EnumerateArray());
        Assert.DoesNotContain("<b>", await http.GetStringAsync("processpool/api/v1/pools/default/failures")); // escaped in JSON too

        // Memory is read with each inspection; CPU % is measured only while someone watches (between two ticks of the
        // sampling loop): none before, every worker's while a viewer is connected, none again once it left (the
        // sampling stopped and its readings were dropped).
        Assert.All(Workers(await app.PoolsAsync()), w => Assert.True(w.GetProperty("memoryBytes").GetInt64() > 1_000_000));
        static IEnumerable<JsonElement> Workers(JsonElement pools) => pools.EnumerateArray().SelectMany(p => p.GetProperty("workers").EnumerateArray());
        static bool Sampled(JsonElement pools) => Workers(pools).All(w => w.GetProperty("cpuPercent").ValueKind == JsonValueKind.Number);
        static bool Unsampled(JsonElement pools) => Workers(pools).All(w => w.GetProperty("cpuPercent").ValueKind == JsonValueKind.Null);
        await app.WaitForPoolsAsync(Unsampled);
        var watched = await app.WaitForAsync(Sampled);
        Assert.All(Workers(watched), w => Assert.InRange(w.GetProperty("cpuPercent").GetDouble(), 0, 100 * Environment.ProcessorCount));
        await app.WaitForPoolsAsync(Unsampled);

        // Bad input: a clear status and message, and nothing changes.
        await AssertProblemAsync(await http.GetAsync("processpool/api/v1/pools/default/failures?limit=abc"), HttpStatusCode.BadRequest, "'limit'");
        await AssertProblemAsync(await http.GetAsync("processpool/api/v1/pools/nosuch/failures"), HttpStatusCode.NotFound, "no pool named 'nosuch'");
        await AssertProblemAsync(await app.ActAsync("pools/default/workers/999/kill"), HttpStatusCode.NotFound, "no live worker 999");
        await AssertProblemAsync(await app.ActAsync("pools/default/workers/abc/recycle"), HttpStatusCode.BadRequest, "'abc' is not a worker id");
        await AssertProblemAsync(await app.ActAsync("pools/default/jobs/123456789/cancel"), HttpStatusCode.NotFound, "no running job 123456789");
        await AssertProblemAsync(await http.GetAsync("processpool/api/v1/pools/default/workers/x/output"), HttpStatusCode.BadRequest, "not a worker id");

        // Cross-site requests cannot act, even from loopback in Development.
        await AssertProblemAsync(await app.ActAsync("pools/default/drain", site: "cross-site"), HttpStatusCode.Forbidden, "same-origin");
        await AssertProblemAsync(await app.ActAsync("pools/default/drain", site: ""), HttpStatusCode.Forbidden, "same-origin");
        Assert.False(DashboardApp.Pool(await app.PoolsAsync(), "default").GetProperty("draining").GetBoolean());
        Assert.Contains("refused a cross-site action", app.Process.Output);
    }

    [Fact]
    public async Task Operators_recycle_kill_cancel_drain_and_resume_and_each_action_is_audited()
    {
        await using var app = await DashboardApp.StartAsync();
        var before = await app.PoolsAsync();
        var first = DashboardApp.Pool(before, "default").GetProperty("workers")[0];
        var (firstId, firstPid) = (first.GetProperty("workerId").GetInt32(), first.GetProperty("processId").GetInt32());

        // Recycle: a fresh worker takes the slot; it knows how its predecessor ended.
        Assert.Equal(HttpStatusCode.OK, (await app.ActAsync($"pools/default/workers/{firstId}/recycle")).StatusCode);
        var recycled = await app.WaitForAsync(p => DashboardApp.Pids(DashboardApp.Pool(p, "default")) is { Length: 2 } pids && !pids.Contains(firstPid));
        Assert.Contains(DashboardApp.Pool(recycled, "default").GetProperty("workers").EnumerateArray(), w => w.GetProperty("predecessorExit").GetString()?.Contains($"(pid {firstPid}) was recycled") == true);

        // Drain: a new call waits in the queue; resume lets it through.
        Assert.Equal(HttpStatusCode.OK, (await app.ActAsync("pools/default/drain")).StatusCode);
        var call = app.Http.PostAsync("demo/slow?ms=10", null);
        await app.WaitForAsync(p => DashboardApp.Pool(p, "default") is var d && d.GetProperty("draining").GetBoolean() && d.GetProperty("queued").GetInt32() == 1);
        Assert.False(call.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, (await app.ActAsync("pools/default/resume")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await call.WaitAsync(TimeSpan.FromSeconds(60))).StatusCode);

        // Cancel a job that ignores its token: after the grace period its worker is killed and replaced.
        var stubborn = app.Http.PostAsync("demo/stubborn?ms=600000", null);
        var running = await app.WaitForAsync(p => Running(p, "StubbornAsync") is not null);
        var (jobId, pid) = Running(running, "StubbornAsync")!.Value;
        Assert.Equal(HttpStatusCode.OK, (await app.ActAsync($"pools/default/jobs/{jobId}/cancel")).StatusCode);
        Assert.False((await stubborn.WaitAsync(TimeSpan.FromSeconds(60))).IsSuccessStatusCode); // its caller was answered: cancelled
        await app.WaitForAsync(p => DashboardApp.Pids(DashboardApp.Pool(p, "default")) is { Length: 2 } pids && !pids.Contains(pid));

        // Kill a worker of the named pool.
        var image = DashboardApp.Pool(await app.PoolsAsync(), "images").GetProperty("workers")[0];
        Assert.Equal(HttpStatusCode.OK, (await app.ActAsync($"pools/images/workers/{image.GetProperty("workerId").GetInt32()}/kill")).StatusCode);
        await app.WaitForAsync(p => DashboardApp.Pids(DashboardApp.Pool(p, "images")) is { Length: 1 } pids && pids[0] != image.GetProperty("processId").GetInt32());

        Assert.Contains($"did 'recycle' on worker {firstId} of pool 'default': Done", app.Process.Output);
        Assert.Contains("did 'drain' on pool of pool 'default': Done", app.Process.Output);
        Assert.Contains($"did 'cancel' on job {jobId} of pool 'default': Done", app.Process.Output);
        Assert.Contains("did 'kill' on worker", app.Process.Output);
    }

    [Fact]
    public async Task Without_an_authorization_decision_production_gets_403_and_no_data()
    {
        await using var app = await DashboardApp.StartAsync(environment: "Production");

        foreach (var path in new[] { "processpool/", "processpool/api/v1/pools", "processpool/api/v1/events", "processpool/api/v1/pools/default/failures" })
        {
            var response = await app.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("processId", body);
            Assert.Contains("ReadPolicy", body);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await app.ActAsync("pools/default/drain")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("health")).StatusCode); // the app itself answers
        var status = await app.Http.GetFromJsonAsync<JsonElement>("pool/status");
        Assert.Equal(2, status.GetProperty("default").GetProperty("workers").GetArrayLength()); // not drained by the refused POST
        Assert.True(status.GetProperty("default").GetProperty("isAcceptingJobs").GetBoolean());
    }

    private static (long JobId, int Pid)? Running(JsonElement pools, string job)
    {
        foreach (var worker in DashboardApp.Pool(pools, "default").GetProperty("workers").EnumerateArray())
        {
            foreach (var running in worker.GetProperty("running").EnumerateArray())
            {
                if (running.GetProperty("name").GetString()!.EndsWith(job, StringComparison.Ordinal))
                {
                    return (running.GetProperty("jobId").GetInt64(), worker.GetProperty("processId").GetInt32());
                }
            }
        }

        return null;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string words)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
        Assert.Contains(words, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
    }
}
