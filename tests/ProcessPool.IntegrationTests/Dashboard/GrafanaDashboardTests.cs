using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ProcessPools.IntegrationTests;

/// <summary>dashboards/processpool.grafana.json against the real Prometheus exposition of the WebApiSample.</summary>
public sealed partial class GrafanaDashboardTests
{
    [Fact]
    public async Task Every_metric_the_Grafana_dashboard_queries_is_in_the_apps_Prometheus_exposition_and_the_json_imports()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(SampleProcess.RepositoryRoot, "dashboards", "processpool.grafana.json"))).RootElement;
        await using var app = await DashboardApp.StartAsync();

        // Work of every kind, so that every instrument has something to expose: answers, a failure, an exit.
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("compute/hash?text=abc&rounds=1")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Http.PostAsync("demo/fail?message=for%20the%20dashboard", null)).StatusCode);
        var worker = DashboardApp.Pool(await app.PoolsAsync(), "images").GetProperty("workers")[0].GetProperty("workerId").GetInt32();
        Assert.Equal(HttpStatusCode.OK, (await app.ActAsync($"pools/images/workers/{worker}/kill")).StatusCode);
        await app.WaitForAsync(p => DashboardApp.Pids(DashboardApp.Pool(p, "images")).Length == 1 && DashboardApp.Pool(p, "images").GetProperty("restarts").GetInt64() == 1);
        var exposition = await app.Http.GetStringAsync("metrics");
        var exposed = ExposedName().Matches(exposition).Select(m => m.Groups[1].Value).ToHashSet();

        var queried = Queries(dashboard).SelectMany(MetricsIn).ToHashSet();
        Assert.True(queried.Count >= 10, string.Join(", ", queried));
        var local = queried.Where(m => !m.StartsWith("processpool_cluster_", StringComparison.Ordinal)).ToArray();
        Assert.All(local, metric => Assert.True(exposed.Contains(metric), $"{metric} is queried but not exposed; exposed: {string.Join(", ", exposed.Order())}"));

        // Cluster instruments live in a cluster front end, not in this app: their names must be the pool's own
        // instruments, named the way the local ones above are exposed (dots to underscores, counters _total, seconds).
        var instruments = typeof(ProcessPoolDiagnostics.Instruments).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => ((string)f.GetRawConstantValue()!).Replace('.', '_')).ToHashSet();
        Assert.All(queried.Except(local), metric => Assert.Contains(Regex.Replace(metric, "(_seconds)?(_total|_bucket|_count|_sum)?$", string.Empty), instruments));

        // What Grafana's import needs.
        Assert.Equal("ProcessPool", dashboard.GetProperty("title").GetString());
        Assert.False(string.IsNullOrEmpty(dashboard.GetProperty("uid").GetString()));
        Assert.True(dashboard.GetProperty("schemaVersion").GetInt32() >= 30);
        var input = Assert.Single(dashboard.GetProperty("__inputs").EnumerateArray());
        Assert.Equal(("datasource", "prometheus"), (input.GetProperty("type").GetString(), input.GetProperty("pluginId").GetString()));
        Assert.Contains(dashboard.GetProperty("templating").GetProperty("list").EnumerateArray(), v => v.GetProperty("name").GetString() == "pool");
        var ids = new HashSet<int>();
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
        {
            Assert.True(ids.Add(panel.GetProperty("id").GetInt32()), "panel ids are unique");
            Assert.False(string.IsNullOrEmpty(panel.GetProperty("title").GetString()));
            var grid = panel.GetProperty("gridPos");
            Assert.All(new[] { "h", "w", "x", "y" }, k => grid.GetProperty(k).GetInt32());
            if (panel.GetProperty("type").GetString() != "row")
            {
                Assert.Equal("${DS_PROMETHEUS}", panel.GetProperty("datasource").GetProperty("uid").GetString());
                Assert.All(panel.GetProperty("targets").EnumerateArray(), t => Assert.False(string.IsNullOrEmpty(t.GetProperty("refId").GetString())));
            }
        }
    }

    private static IEnumerable<string> Queries(JsonElement dashboard) =>
        dashboard.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!);

    /// <summary>The metric names in a PromQL query: label matchers ({...}) and grouping (by (...)) set aside.</summary>
    private static IEnumerable<string> MetricsIn(string query)
    {
        var bare = Grouping().Replace(Selector().Replace(query, " "), " ");
        return MetricName().Matches(bare).Select(m => m.Value);
    }

    [GeneratedRegex(@"^(processpool_\w+?)(?:\{| )", RegexOptions.Multiline)]
    private static partial Regex ExposedName();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"\bby\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\bprocesspool_\w+")]
    private static partial Regex MetricName();
}
