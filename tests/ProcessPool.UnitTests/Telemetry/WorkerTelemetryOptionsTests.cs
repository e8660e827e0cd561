using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace ProcessPools.UnitTests;

public sealed class WorkerTelemetryOptionsTests
{
    [Fact]
    public void The_workers_get_the_otlp_settings_and_signals_through_their_environment()
    {
        var services = new ServiceCollection();
        services.AddProcessPool("images", configure: null).AddWorkerTelemetry(o =>
        {
            o.Endpoint = new Uri("http://collector:4318");
            o.Protocol = OtlpExportProtocol.HttpProtobuf;
            o.Headers = "x-api-key=secret";
            o.ServiceName = "imaging";
            o.Metrics = false;
            o.Logs = true;
            o.Sources.Add("Imaging.Jobs");
        });
        using var provider = services.BuildServiceProvider();

        var environment = provider.GetRequiredService<IOptionsMonitor<ProcessPoolOptions>>().Get("images").EnvironmentVariables;

        Assert.Equal("http://collector:4318/", environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", environment["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("x-api-key=secret", environment["OTEL_EXPORTER_OTLP_HEADERS"]);
        Assert.Equal("imaging", environment["OTEL_SERVICE_NAME"]);
        Assert.Equal("traces,logs;System.Runtime;Imaging.Jobs", environment["PROCESSPOOL_WORKER_TELEMETRY"]);
        Assert.Empty(provider.GetRequiredService<IOptionsMonitor<ProcessPoolOptions>>().Get(string.Empty).EnvironmentVariables); // other pools untouched
    }

    [Fact]
    public void Unset_settings_are_left_to_the_environment_the_workers_inherit()
    {
        var services = new ServiceCollection();
        services.AddProcessPool().AddWorkerTelemetry();
        using var provider = services.BuildServiceProvider();

        var environment = provider.GetRequiredService<IOptionsMonitor<ProcessPoolOptions>>().Get(string.Empty).EnvironmentVariables;

        Assert.Equal(["PROCESSPOOL_WORKER_TELEMETRY"], environment.Keys);
        Assert.Equal("traces,metrics;System.Runtime;", environment["PROCESSPOOL_WORKER_TELEMETRY"]);
    }

    [Theory]
    [InlineData("relative/path", null, "absolute http or https")]
    [InlineData("ftp://collector", null, "absolute http or https")]
    [InlineData(null, "My,Meter", "',' or ';'")]
    [InlineData(null, " ", "empty")]
    public void A_bad_endpoint_or_name_is_refused_at_the_call(string? endpoint, string? meter, string words)
    {
        var builder = new ServiceCollection().AddProcessPool();

        var error = Assert.Throws<ArgumentException>(() => builder.AddWorkerTelemetry(o =>
        {
            o.Endpoint = endpoint is null ? null : new Uri(endpoint, UriKind.RelativeOrAbsolute);
            if (meter is not null)
            {
                o.Meters.Add(meter);
            }
        }));

        Assert.Contains(words, error.Message, StringComparison.Ordinal);
    }
}
