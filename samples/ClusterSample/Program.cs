// ClusterSample: the same IProcessPool over a Microsoft Orleans cluster, as separate processes on one machine.
//
//   dotnet run --project samples/ClusterSample -- silo 0        # the first silo (silo port 11111, gateway 30000)
//   dotnet run --project samples/ClusterSample -- silo 1        # the second (11112, 30001)
//   dotnet run --project samples/ClusterSample -- frontend      # the web front end on http://localhost:5080
//   curl "http://localhost:5080/map?count=2000&ms=5"            # which silo and which worker pid ran how many items
//   open http://localhost:5080/processpool/                     # the dashboard: both silos and their workers (Development)
//
// Clustering is Orleans' localhost development clustering unless Cluster:Redis names a Redis server
// (for instance --Cluster:Redis=localhost:6379), which every process then uses as its membership table.
using System.Net;
using ClusterSample;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using ProcessPools;

var role = args.Length > 0 ? args[0] : "frontend";
var index = args.Length > 1 && int.TryParse(args[1], out var n) ? n : 0;

if (role == "silo")
{
    // A silo: its own pool of worker processes, and the execution grain that runs the cluster's jobs on it.
    var siloBuilder = Host.CreateApplicationBuilder(args);
    var siloCluster = siloBuilder.Configuration.GetSection("Cluster");
    await RunSiloAsync(siloBuilder, siloCluster, siloCluster["Redis"], siloCluster.GetValue("PrimarySiloPort", 11111), index);
    return;
}

var builder = WebApplication.CreateBuilder(args);
var cluster = builder.Configuration.GetSection("Cluster");
var redis = cluster["Redis"];

// The front end: an Orleans client whose IProcessPool is the cluster's.
builder.UseOrleansClient(client =>
{
    if (string.IsNullOrEmpty(redis))
    {
        var gateways = (cluster["Gateways"] ?? "30000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        client.UseLocalhostClustering(gateways);
    }
    else
    {
        client.UseRedisClustering(redis);
    }

    client.AddActivityPropagation();

    // A client learns of silos that join or leave from the cluster manifest, which Orleans refreshes every minute by
    // default; asked every second, a lost silo's jobs are answered and a new silo gets work within about a second.
    client.Configure<TypeManagementOptions>(o => o.TypeMapRefreshInterval = TimeSpan.FromSeconds(1));
});
builder.Services.AddClusterProcessPool(builder.Configuration.GetSection("ClusterProcessPool"));
AddTelemetry(builder.Services, builder.Logging, builder.Configuration, "frontend", pool: null);
if (builder.Configuration["urls"] is null && Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
{
    builder.WebHost.UseUrls("http://localhost:5080");
}

var app = builder.Build();

// Runs a map of count items, each taking ms milliseconds in a worker, and reports who ran what.
app.MapGet("/map", async (IProcessPool pool, int? count, int? ms, CancellationToken ct) =>
{
    var items = count ?? 1000;
    var started = DateTime.UtcNow;
    var answers = await pool.StarMap(SampleJobs.RunAsync, Enumerable.Range(0, items).Select(x => (x, ms ?? 5)), ct);
    var status = await pool.GetStatusAsync(ct);
    var siloOf = status.Workers.Where(w => w.ProcessId is not null).ToDictionary(w => w.ProcessId!.Value, w => w.Node ?? "?");
    var wrong = answers.Select((a, i) => (a, i)).Count(p => p.a.Item != p.i || p.a.Square != (long)p.i * p.i);
    return Results.Ok(new
    {
        items,
        answered = answers.Count,
        wrong,
        elapsedMs = (int)(DateTime.UtcNow - started).TotalMilliseconds,
        bySilo = answers.GroupBy(a => siloOf.GetValueOrDefault(a.Pid, "a silo no longer in the cluster")).ToDictionary(g => g.Key, g => g.Count()),
        byWorkerPid = answers.GroupBy(a => a.Pid).ToDictionary(g => g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), g => g.Count()),
    });
});

// The operator's dashboard: the cluster pool with each silo and its workers, their failures and output, and the
// actions (recycle, kill, cancel, drain), which reach the silo that runs the worker. With no policy it answers only
// loopback clients in Development; name Dashboard:ReadPolicy and Dashboard:OperatePolicy (registered policies) for more.
app.MapProcessPoolDashboard("/processpool", dashboard =>
{
    dashboard.ReadPolicy = app.Configuration["Dashboard:ReadPolicy"] is { Length: > 0 } read ? read : null;
    dashboard.OperatePolicy = app.Configuration["Dashboard:OperatePolicy"] is { Length: > 0 } operate ? operate : null;
});

// The cluster pool's silos and their workers.
app.MapGet("/status", async (IProcessPool pool, CancellationToken ct) =>
{
    var status = await pool.GetStatusAsync(ct);
    return Results.Ok(new
    {
        silos = status.Workers.GroupBy(w => w.Node).Select(g => new { silo = g.Key, workers = g.Select(w => new { pid = w.ProcessId, w.State, w.InFlight, w.Completed }) }),
    });
});

await app.RunAsync();

// With Telemetry:OtlpEndpoint set, the front end, each silo and each silo's workers send their traces and metrics
// there as the service "ClusterSample" (instances: frontend, silo-N, and each worker), one trace per call.
static void AddTelemetry(IServiceCollection services, ILoggingBuilder logging, IConfiguration configuration, string instance, IProcessPoolBuilder? pool)
{
    if (configuration["Telemetry:OtlpEndpoint"] is not { Length: > 0 } otlp)
    {
        return;
    }

    var endpoint = new Uri(otlp);
    pool?.AddWorkerTelemetry(workers => workers.Endpoint = endpoint);
    services.AddOpenTelemetry()
        .ConfigureResource(resource => resource.AddService("ClusterSample", serviceInstanceId: instance))
        .WithTracing(tracing => tracing.AddProcessPoolInstrumentation().AddSource("Microsoft.Orleans.Application").AddOtlpExporter(o => o.Endpoint = endpoint))
        .WithMetrics(metrics => metrics.AddProcessPoolInstrumentation().AddOtlpExporter(o => o.Endpoint = endpoint));
    logging.AddOpenTelemetry(o => o.AddOtlpExporter(e => e.Endpoint = endpoint));
}

static async Task RunSiloAsync(HostApplicationBuilder builder, IConfigurationSection cluster, string? redis, int primaryPort, int index)
{
    var pool = builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
    AddTelemetry(builder.Services, builder.Logging, builder.Configuration, $"silo-{index}", pool);
    builder.UseOrleans(silo =>
    {
        var siloPort = cluster.GetValue("SiloPort", primaryPort + index);
        var gatewayPort = cluster.GetValue("GatewayPort", 30000 + index);
        if (string.IsNullOrEmpty(redis))
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort, new IPEndPoint(IPAddress.Loopback, primaryPort));
        }
        else
        {
            silo.UseRedisClustering(redis).ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
        }

        // A killed silo is declared dead within seconds (Orleans' defaults take about a minute).
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
        });
        silo.AddProcessPoolExecution();
    });
    await builder.Build().RunAsync();
}
