using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessPools.Dashboard;
using ProcessPools.Operations;
using static ProcessPools.Dashboard.DashboardResults;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Mounts ProcessPool's dashboard in an ASP.NET Core application.</summary>
public static class ProcessPoolDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Mounts the dashboard (the page, its assets, a JSON API under <c>api/v1</c> and live updates) at
    /// <paramref name="prefix"/>, for every pool the application added. Without an authorization decision it answers
    /// only in Development and only to loopback clients: set <see cref="ProcessPoolDashboardOptions.ReadPolicy"/> and
    /// <see cref="ProcessPoolDashboardOptions.OperatePolicy"/>, or call <c>RequireAuthorization</c> on the returned builder.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="prefix">Where the dashboard answers, e.g. "/processpool".</param>
    /// <param name="configure">Sets who may read and act.</param>
    /// <returns>The dashboard's endpoints, for more conventions (<c>RequireHost</c>, <c>RequireAuthorization</c>, ...).</returns>
    public static RouteGroupBuilder MapProcessPoolDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/processpool", Action<ProcessPoolDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (!prefix.StartsWith('/'))
        {
            throw new ArgumentException($"The dashboard's prefix must start with '/' (got '{prefix}').", nameof(prefix));
        }

        var options = new ProcessPoolDashboardOptions();
        configure?.Invoke(options);
        if (options.RefreshInterval <= TimeSpan.Zero || options.History <= TimeSpan.Zero)
        {
            throw new ArgumentException("The dashboard's RefreshInterval and History must be positive.", nameof(configure));
        }

        if (options.ReadPolicy is { } read && string.IsNullOrWhiteSpace(read) || options.OperatePolicy is { } operate && string.IsNullOrWhiteSpace(operate))
        {
            throw new ArgumentException("The dashboard's ReadPolicy and OperatePolicy name authorization policies: leave them null, or give a name.", nameof(configure));
        }

        var services = endpoints.ServiceProvider;
        var pools = services.GetServices<IProcessPoolOperator>().ToArray();
        var monitor = new DashboardMonitor(pools, options, services.GetService<TimeProvider>() ?? TimeProvider.System);
        services.GetService<IHostApplicationLifetime>()?.ApplicationStopping.Register(monitor.Dispose);
        var access = new DashboardAccess(options, services.GetRequiredService<IHostEnvironment>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("ProcessPools.Dashboard"));

        var group = endpoints.MapGroup(prefix.TrimEnd('/'));
        group.AddEndpointFilter(access.ReadFilter);
        if (options.ReadPolicy is { } readPolicy)
        {
            group.RequireAuthorization(readPolicy);
        }

        // The page and its assets.
        group.MapGet("/", (HttpContext context) => context.Request.Path.Value?.EndsWith('/') == true
            ? Asset(context, "index.html")
            : Results.Redirect($"{context.Request.PathBase}{context.Request.Path}/")); // the page's links are relative to it
        group.MapGet("/assets/{file}", (HttpContext context, string file) => Asset(context, file));

        // The JSON API, version 1. A cluster pool's worker or job is named with its silo: ?node=...
        var api = group.MapGroup("/api/v1");
        api.MapGet("/pools", async (HttpContext context, CancellationToken cancellationToken) =>
            Json(context, JsonSerializer.Serialize(await monitor.SnapshotAsync(HistoryPart.None, cancellationToken).ConfigureAwait(false), DashboardJson.Default.PoolsView)));
        api.MapGet("/pools/{pool}/failures", (HttpContext context, string pool) => FailuresAsync(context, monitor, pool));
        api.MapGet("/pools/{pool}/workers/{worker}/output", (HttpContext context, string pool, string worker) => OutputAsync(context, monitor, pool, worker));
        api.MapGet("/events", (HttpContext context, CancellationToken cancellationToken) =>
        {
            NoStore(context);
            return TypedResults.ServerSentEvents(Events(monitor, cancellationToken));
        });

        // The actions: POSTs, checked against cross-site requests, logged with the user's name.
        var actions = api.MapGroup("/pools/{pool}");
        actions.AddEndpointFilter(access.OperateFilter);
        if (options.OperatePolicy is { } operatePolicy)
        {
            actions.RequireAuthorization(operatePolicy);
        }

        actions.MapPost("/workers/{worker}/recycle", (HttpContext context, string pool, string worker) =>
            OnWorkerAsync(context, access, monitor, pool, worker, "recycle", static (p, id, node, token) => p.RecycleWorkerAsync(id, node, token)));
        actions.MapPost("/workers/{worker}/kill", (HttpContext context, string pool, string worker) =>
            OnWorkerAsync(context, access, monitor, pool, worker, "kill", static (p, id, node, token) => p.KillWorkerAsync(id, node, token)));
        actions.MapPost("/jobs/{job}/cancel", (HttpContext context, string pool, string job) =>
        {
            if (!long.TryParse(job, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId))
            {
                return Task.FromResult(Problem(context, StatusCodes.Status400BadRequest, $"'{job}' is not a job id (a whole number)."));
            }

            var node = NodeOf(context);
            return ActAsync(context, access, monitor, pool, "cancel", On($"job {jobId}", node), (p, token) => p.CancelJobAsync(jobId, node, token));
        });
        actions.MapPost("/drain", (HttpContext context, string pool) => ActAsync(context, access, monitor, pool, "drain", "pool", static (p, token) => p.DrainAsync(token)));
        actions.MapPost("/resume", (HttpContext context, string pool) => ActAsync(context, access, monitor, pool, "resume", "pool", static (p, token) => p.ResumeDispatchAsync(token)));
        return group;
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(DashboardMonitor monitor, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var snapshot in monitor.WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new SseItem<string>(snapshot, "pools");
        }
    }

    /// <summary>The node (a cluster pool's silo) a request names, from <c>?node=</c>; null when it names none.</summary>
    private static string? NodeOf(HttpContext context) => context.Request.Query["node"].ToString() is { Length: > 0 } node ? node : null;

    private static string On(string target, string? node) => node is null ? target : $"{target} on {node}";

    private static async Task<IResult> FailuresAsync(HttpContext context, DashboardMonitor monitor, string pool)
    {
        if (monitor.Find(pool) is not { } found)
        {
            return Problem(context, StatusCodes.Status404NotFound, $"There is no pool named '{pool}'.");
        }

        var query = context.Request.Query;
        var limit = 200;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            return Problem(context, StatusCodes.Status400BadRequest, "'limit' must be a whole number from 1 to 1000.");
        }

        // Plain text, compared ignoring case: never a pattern.
        var search = query["q"].ToString();
        var job = query["job"].ToString();
        var type = query["type"].ToString();
        var node = NodeOf(context);
        var all = await found.RecentFailuresAsync(context.RequestAborted).ConfigureAwait(false);
        var matching = all
            .Where(f => node is null || f.Node == node)
            .Where(f => job.Length == 0 || f.JobName.Contains(job, StringComparison.OrdinalIgnoreCase))
            .Where(f => type.Length == 0 || f.ExceptionType.Contains(type, StringComparison.OrdinalIgnoreCase))
            .Where(f => search.Length == 0
                || f.JobName.Contains(search, StringComparison.OrdinalIgnoreCase)
                || f.ExceptionType.Contains(search, StringComparison.OrdinalIgnoreCase)
                || f.Message.Contains(search, StringComparison.OrdinalIgnoreCase)
                || (f.StackTrace?.Contains(search, StringComparison.OrdinalIgnoreCase) ?? false))
            .Take(limit)
            .Select(f => new FailureView(DashboardMonitor.KeyOf(found), f.Node, f.At, f.JobId, f.JobName, f.Outcome, f.ExceptionType, f.Message, f.StackTrace, f.ProcessId, f.StandardErrorTail, f.Attempt, f.Attempt > 1))
            .ToArray();
        return Json(context, JsonSerializer.Serialize(new FailuresView(1, all.Count, matching), DashboardJson.Default.FailuresView));
    }

    private static async Task<IResult> OutputAsync(HttpContext context, DashboardMonitor monitor, string pool, string worker)
    {
        if (monitor.Find(pool) is not { } found)
        {
            return Problem(context, StatusCodes.Status404NotFound, $"There is no pool named '{pool}'.");
        }

        if (!int.TryParse(worker, NumberStyles.None, CultureInfo.InvariantCulture, out var workerId))
        {
            return Problem(context, StatusCodes.Status400BadRequest, $"'{worker}' is not a worker id (a whole number).");
        }

        var node = NodeOf(context);
        IReadOnlyList<WorkerOutputLine>? lines;
        try
        {
            lines = await found.WorkerOutputAsync(workerId, node, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            return Unanswered(context, exception);
        }

        return lines is not null
            ? Json(context, JsonSerializer.Serialize(new OutputView(1, DashboardMonitor.KeyOf(found), node, workerId, lines), DashboardJson.Default.OutputView))
            : Problem(context, StatusCodes.Status404NotFound, $"Pool '{DashboardMonitor.KeyOf(found)}' has no live {On($"worker {workerId}", node)}.");
    }

    private static Task<IResult> OnWorkerAsync(HttpContext context, DashboardAccess access, DashboardMonitor monitor, string pool, string worker, string action, Func<IProcessPoolOperator, int, string?, CancellationToken, ValueTask<OperatorAnswer>> act)
    {
        if (!int.TryParse(worker, NumberStyles.None, CultureInfo.InvariantCulture, out var workerId))
        {
            return Task.FromResult(Problem(context, StatusCodes.Status400BadRequest, $"'{worker}' is not a worker id (a whole number)."));
        }

        var node = NodeOf(context);
        return ActAsync(context, access, monitor, pool, action, On($"worker {workerId}", node), (p, token) => act(p, workerId, node, token));
    }

    private static async Task<IResult> ActAsync(HttpContext context, DashboardAccess access, DashboardMonitor monitor, string pool, string action, string target, Func<IProcessPoolOperator, CancellationToken, ValueTask<OperatorAnswer>> act)
    {
        if (monitor.Find(pool) is not { } found)
        {
            return Problem(context, StatusCodes.Status404NotFound, $"There is no pool named '{pool}'.");
        }

        OperatorAnswer answer;
        try
        {
            answer = await act(found, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            access.Audit(context, DashboardMonitor.KeyOf(found), action, target, exception.Message);
            return Unanswered(context, exception);
        }

        access.Audit(context, DashboardMonitor.KeyOf(found), action, target, answer.ToString());
        return answer switch
        {
            OperatorAnswer.Done => Json(context, JsonSerializer.Serialize(new ActionView(DashboardMonitor.KeyOf(found), action, target, "done"), DashboardJson.Default.ActionView)),
            OperatorAnswer.Closing => Problem(context, StatusCodes.Status409Conflict, $"Pool '{DashboardMonitor.KeyOf(found)}' is closing: it takes no action."),
            _ => Problem(context, StatusCodes.Status404NotFound, $"Pool '{DashboardMonitor.KeyOf(found)}' has no {(target.StartsWith("job", StringComparison.Ordinal) ? "running " : "live ")}{target}."),
        };
    }

    /// <summary>The pool could not answer (a cluster pool's silo did not, in time): 502, with why.</summary>
    private static IResult Unanswered(HttpContext context, Exception exception) =>
        Problem(context, StatusCodes.Status502BadGateway, $"The pool did not answer: {exception.Message}");

    private static IResult Asset(HttpContext context, string file)
    {
        var type = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            ".txt" => "text/plain; charset=utf-8",
            _ => null,
        };
        var stream = type is null ? null : typeof(DashboardMonitor).Assembly.GetManifestResourceStream($"ProcessPools.Dashboard.Assets.{file}");
        if (stream is null)
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = file == "index.html" ? "no-cache" : "public, max-age=3600";
        return Results.Stream(stream, type);
    }
}
