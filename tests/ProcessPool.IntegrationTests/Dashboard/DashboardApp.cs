using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace ProcessPools.IntegrationTests;

/// <summary>The WebApiSample run as a real application on loopback, with its dashboard, read through its JSON API and live events.</summary>
public sealed class DashboardApp : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private DashboardApp(SampleProcess process, Uri root, string pathBase)
    {
        Process = process;
        Root = root;
        PathBase = pathBase;
        Http = new HttpClient { BaseAddress = new Uri(root, $"{pathBase}/"), Timeout = Patience };
    }

    public SampleProcess Process { get; }

    /// <summary>The app's address (scheme, host, port).</summary>
    public Uri Root { get; }

    public string PathBase { get; }

    /// <summary>A client whose base address is the app's root under its path base.</summary>
    public HttpClient Http { get; }

    public static async Task<DashboardApp> StartAsync(string environment = "Development", string pathBase = "", params string[] arguments)
    {
        var process = SampleProcess.Start(
            "WebApiSample",
            ["--urls", "http://127.0.0.1:0", "--environment", environment, "--Demo:Enabled=true", "--Telemetry:Exporter=None", .. pathBase.Length > 0 ? new[] { $"--PathBase={pathBase}" } : [], .. arguments]);
        DashboardApp? app = null;
        try
        {
            var listening = await process.WaitForLineAsync(@"Now listening on: (http://127\.0\.0\.1:\d+)", Patience);
            app = new DashboardApp(process, new Uri(listening.Groups[1].Value), pathBase);
            if (environment == "Development")
            {
                await app.WaitForAsync(pools => pools.EnumerateArray().All(p => p.GetProperty("health").GetString() == "Healthy"));
            }

            return app;
        }
        catch
        {
            // Regression: an app whose start the test gave up on outlived the test run, with its workers.
            if (app is not null)
            {
                await app.DisposeAsync();
            }
            else
            {
                await process.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>GET of the dashboard's pools document.</summary>
    public async Task<JsonElement> PoolsAsync() => (await Http.GetFromJsonAsync<JsonElement>("processpool/api/v1/pools")).GetProperty("pools");

    public static JsonElement Pool(JsonElement pools, string name) => pools.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);

    public static int[] Pids(JsonElement pool) =>
        [.. pool.GetProperty("workers").EnumerateArray().Where(w => w.GetProperty("state").GetString() == "Ready").Select(w => w.GetProperty("processId").GetInt32()).Order()];

    /// <summary>
    /// Reads the pools document (not the live feed, whose reader would count as a viewer) until it satisfies
    /// <paramref name="condition"/>: for states a viewer's absence brings about, which no event announces; every 100 ms.
    /// </summary>
    public async Task WaitForPoolsAsync(Func<JsonElement, bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!condition(await PoolsAsync()))
        {
            await tick.WaitForNextTickAsync(deadline.Token);
        }
    }

    /// <summary>A POST as the dashboard's page sends it (a browser marks it same-origin).</summary>
    public Task<HttpResponseMessage> ActAsync(string path, string site = "same-origin")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"processpool/api/v1/{path}");
        if (site.Length > 0)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
        }

        return Http.SendAsync(request);
    }

    /// <summary>Reads the dashboard's live events (the page's own feed) until a snapshot's pools satisfy <paramref name="condition"/>.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        using var response = await Http.GetAsync("processpool/api/v1/events", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        response.EnsureSuccessStatusCode();
        var last = default(JsonElement);
        try
        {
            await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync(deadline.Token)).EnumerateAsync(deadline.Token))
            {
                last = JsonDocument.Parse(item.Data).RootElement.GetProperty("pools");
                if (condition(last))
                {
                    return last;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }

        throw new Xunit.Sdk.XunitException($"The dashboard's events never showed the expected state within {Patience}; last: {last}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}
