using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ProcessPools.Dashboard;

/// <summary>The dashboard's API answers: JSON, never cached, and its errors as <c>{ "error": "..." }</c>.</summary>
internal static class DashboardResults
{
    public static IResult Json(HttpContext context, string json, int? status = null)
    {
        NoStore(context);
        return Results.Text(json, "application/json; charset=utf-8", statusCode: status);
    }

    public static IResult Problem(HttpContext context, int status, string message) =>
        Json(context, JsonSerializer.Serialize(new ProblemView(message), DashboardJson.Default.ProblemView), status);

    public static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";
}
