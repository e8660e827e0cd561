using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ProcessPools.Dashboard;

/// <summary>
/// Who gets in. Reading: an explicit authorization decision (a policy in the options, or RequireAuthorization /
/// AllowAnonymous on the endpoints) is applied by ASP.NET Core's authorization; without one, only loopback clients in
/// Development get in. Acting: also a same-origin request (Sec-Fetch-Site), not read-only, and an explicit decision for
/// acting (OperatePolicy) wherever reading has one. Every response carries a strict Content-Security-Policy.
/// </summary>
internal sealed partial class DashboardAccess(ProcessPoolDashboardOptions options, IHostEnvironment environment, ILogger logger)
{
    /// <summary>No inline script or style, nothing from another origin, never framed.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public async ValueTask<object?> ReadFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        if (!HasExplicitDecision(context) && !IsLocalDevelopment(context))
        {
            return Refuse(context, "The ProcessPool dashboard answers only loopback clients in Development until the application decides who may see it: set ReadPolicy/OperatePolicy in MapProcessPoolDashboard's options, or call RequireAuthorization on its endpoints.");
        }

        return await next(invocation).ConfigureAwait(false);
    }

    public async ValueTask<object?> OperateFilter(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (options.ReadOnly)
        {
            return Refuse(context, "The ProcessPool dashboard is read-only (ReadOnly).");
        }

        if (options.ReadPolicy is not null && options.OperatePolicy is null)
        {
            return Refuse(context, "The ProcessPool dashboard is read-only: ReadPolicy is set and OperatePolicy is not.");
        }

        // Cross-site request forgery: browsers say where a request comes from, and a page of another site cannot hide it.
        var site = context.Request.Headers["Sec-Fetch-Site"].ToString();
        if (!string.Equals(site, "same-origin", StringComparison.Ordinal))
        {
            Log.CrossSiteRefused(logger, context.Request.Path, site.Length == 0 ? "(none)" : site, UserOf(context));
            return Refuse(context, $"Actions must come from the dashboard's own page (Sec-Fetch-Site: same-origin); this request's is '{(site.Length == 0 ? "(none)" : site)}'.");
        }

        return await next(invocation).ConfigureAwait(false);
    }

    public void Audit(HttpContext context, string pool, string action, string target, string answer) =>
        Log.Action(logger, UserOf(context), action, target, pool, answer, context.Connection.RemoteIpAddress?.ToString() ?? "(unknown)");

    private static string UserOf(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : "(anonymous)";

    private bool HasExplicitDecision(HttpContext context)
    {
        if (options.ReadPolicy is not null)
        {
            return true;
        }

        var metadata = context.GetEndpoint()?.Metadata;
        return metadata?.GetMetadata<IAuthorizeData>() is not null || metadata?.GetMetadata<IAllowAnonymous>() is not null;
    }

    private bool IsLocalDevelopment(HttpContext context) =>
        environment.IsDevelopment() && context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);

    private static IResult Refuse(HttpContext context, string message) => DashboardResults.Problem(context, StatusCodes.Status403Forbidden, message);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Dashboard: {User} did '{Action}' on {Target} of pool '{Pool}': {Answer} (from {Address})")]
        public static partial void Action(ILogger logger, string user, string action, string target, string pool, string answer, string address);

        [LoggerMessage(2, LogLevel.Warning, "Dashboard: refused a cross-site action {Path} (Sec-Fetch-Site: {Site}) from {User}")]
        public static partial void CrossSiteRefused(ILogger logger, PathString path, string site, string user);
    }
}
