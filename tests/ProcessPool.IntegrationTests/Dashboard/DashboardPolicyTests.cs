using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ProcessPools.Dashboard;

namespace ProcessPools.IntegrationTests;

/// <summary>
/// The dashboard's access rules with policies, in an application of the test's own (Kestrel on loopback, a real pool,
/// Production): who may read, who may act, read-only, and a closing pool.
/// </summary>
public sealed class DashboardPolicyTests
{
    [Fact]
    public async Task Readers_read_operators_act_others_are_refused_and_a_closing_pool_takes_no_action()
    {
        await using var app = await StartAsync(o => (o.ReadPolicy, o.OperatePolicy) = ("readers", "operators"));
        using var http = Client(app);

        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(http, HttpMethod.Get, "api/v1/pools", user: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(http, HttpMethod.Get, "api/v1/pools", user: "guest")).StatusCode);
        var read = await Send(http, HttpMethod.Get, "api/v1/pools", user: "reader");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Contains("\"processId\"", await read.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(http, HttpMethod.Post, "api/v1/pools/default/drain", user: "reader")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Post, "api/v1/pools/default/drain", user: "operator")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Post, "api/v1/pools/default/resume", user: "operator")).StatusCode);

        await ((IProcessPoolOwner)app.Services.GetRequiredService<IProcessPool>()).CloseAsync();
        var closing = await Send(http, HttpMethod.Post, "api/v1/pools/default/drain", user: "operator");
        Assert.Equal(HttpStatusCode.Conflict, closing.StatusCode);
        Assert.Contains("is closing", await closing.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_a_read_policy_and_no_operate_policy_or_with_ReadOnly_nobody_acts()
    {
        await using var withoutOperate = await StartAsync(o => o.ReadPolicy = "readers");
        await using var readOnly = await StartAsync(o => (o.ReadPolicy, o.OperatePolicy, o.ReadOnly) = ("readers", "operators", true));

        foreach (var app in new[] { withoutOperate, readOnly })
        {
            using var http = Client(app);
            Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Get, "api/v1/pools", user: "operator")).StatusCode);
            var refused = await Send(http, HttpMethod.Post, "api/v1/pools/default/drain", user: "operator");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("read-only", await refused.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task RequireAuthorization_on_the_returned_builder_is_a_decision_and_RequireHost_applies()
    {
        await using var app = await StartAsync(configure: null, conventions: group => group.RequireAuthorization("readers").RequireHost("127.0.0.1"));
        using var http = Client(app);

        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(http, HttpMethod.Get, "api/v1/pools", user: null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Get, "api/v1/pools", user: "reader")).StatusCode); // Production, yet allowed: the app decided
        var otherHost = new HttpRequestMessage(HttpMethod.Get, "api/v1/pools") { Headers = { Host = "dashboard.example" } };
        otherHost.Headers.Add(TestUsers.Header, "reader");
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(otherHost)).StatusCode);
    }

    [Theory]
    [InlineData("processpool", null, null, "must start with '/'")]
    [InlineData("/processpool", " ", null, "ReadPolicy and OperatePolicy")]
    [InlineData("/processpool", null, "", "ReadPolicy and OperatePolicy")]
    public async Task A_bad_prefix_or_policy_name_is_refused_where_the_dashboard_is_mapped(string prefix, string? read, string? operate, string words)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddProcessPool(o => o.Processes = 1);
        await using var app = builder.Build();

        var error = Assert.Throws<ArgumentException>(() => app.MapProcessPoolDashboard(prefix, o => (o.ReadPolicy, o.OperatePolicy) = (read, operate)));

        Assert.Contains(words, error.Message, StringComparison.Ordinal);
    }

    private static HttpClient Client(WebApplication app) =>
        new() { BaseAddress = new Uri(new Uri(app.Urls.First()), "/processpool/") };

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string? user)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        if (user is not null)
        {
            request.Headers.Add(TestUsers.Header, user);
        }

        return http.SendAsync(request);
    }

    private static async Task<WebApplication> StartAsync(Action<ProcessPoolDashboardOptions>? configure, Action<RouteGroupBuilder>? conventions = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddProcessPool(o => o.Processes = 1);
        builder.Services.AddAuthentication(TestUsers.SchemeName).AddScheme<AuthenticationSchemeOptions, TestUsers>(TestUsers.SchemeName, null);
        builder.Services.AddAuthorization(o =>
        {
            o.AddPolicy("readers", p => p.RequireRole("reader", "operator"));
            o.AddPolicy("operators", p => p.RequireRole("operator"));
        });
        var app = builder.Build();
        var group = app.MapProcessPoolDashboard("/processpool", configure);
        conventions?.Invoke(group);
        await app.StartAsync();
        return app;
    }

    /// <summary>A user named by a request header (test-only authentication): "reader", "operator" or any other name, with that role.</summary>
    private sealed class TestUsers(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "test-users";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[Header].ToString() is not { Length: > 0 } name)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, name)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
