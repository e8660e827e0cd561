using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ProcessPools.Orleans;

namespace ProcessPools.ClusterTests;

/// <summary>A cluster pool's options fail the host's start, each problem named by its full key path, as a local pool's do.</summary>
public sealed class ClusterOptionsTests
{
    [Theory]
    [InlineData("MaxRetriez", "2", "ClusterProcessPool:MaxRetriez is not a setting of cluster pool 'default'. Did you mean 'MaxRetries'?")]
    [InlineData("MaxRetries", "-1", "ClusterProcessPool:MaxRetries: The field MaxRetries must be between 0 and 100. (cluster pool 'default')")]
    [InlineData("MaxRetries", "many", "ClusterProcessPool:MaxRetries")]
    [InlineData("MaxMessageSize", "10", "ClusterProcessPool:MaxMessageSize: The field MaxMessageSize must be between 1024 and")]
    [InlineData("SiloWaitTimeout", "00:00:00", "ClusterProcessPool:SiloWaitTimeout (00:00:00) must be positive (cluster pool 'default').")]
    [InlineData("JobTimeout", "-00:00:01", "ClusterProcessPool:JobTimeout (-00:00:01) must be positive, or unset for none (cluster pool 'default').")]
    [InlineData("Serializer", "Json", "ClusterProcessPool:Serializer cannot be set from configuration (cluster pool 'default'): it takes a type, so set it in code, in AddClusterProcessPool(..., options => options.Serializer = ...).")]
    public async Task A_bad_section_fails_the_hosts_start_naming_the_key(string key, string value, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection([new($"ClusterProcessPool:{key}", value)]);
        builder.Services.AddClusterProcessPool(builder.Configuration.GetSection("ClusterProcessPool"));
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains(expected, failure.Message);
    }

    [Fact]
    public async Task Options_set_in_code_are_checked_at_start_too_by_their_names()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddClusterProcessPool("images", o => (o.MaxRetries, o.SiloWaitTimeout) = (101, TimeSpan.FromSeconds(-1)));
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("MaxRetries: The field MaxRetries must be between 0 and 100. (cluster pool 'images')", failure.Message);
        Assert.Contains("SiloWaitTimeout (-00:00:01) must be positive (cluster pool 'images')", failure.Message);
    }
}
