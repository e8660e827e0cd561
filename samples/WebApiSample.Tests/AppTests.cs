using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProcessPools.Testing;
using WebApiSample.Jobs;

namespace WebApiSample.Tests;

/// <summary>
/// The whole application in memory (WebApplicationFactory), with both of its pools replaced by in-process ones: real
/// HTTP requests through routing, model binding and the controllers, and no worker process started.
/// </summary>
public sealed class AppTests(WebApplicationFactory<Program> factory) : IClassFixture<WebApplicationFactory<Program>>, IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _app = factory.WithWebHostBuilder(web => web
        .UseSetting("Telemetry:Exporter", "None")
        .ConfigureTestServices(services => services
            .AddFakeProcessPool()
            .AddFakeProcessPool(images =>
            {
                images.Name = ImagePool.Name;
                images.AddJob<BlurJob>().AddJobExceptionHandler<LogFailedImageJobs>();
                images.WorkerServices.AddSingleton<BlurKernels>(); // what ImagePool.ConfigureWorker adds in a worker
            })));

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task Requests_run_their_jobs_in_process_and_no_pool_starts_workers()
    {
        using var http = _app.CreateClient();

        var hash = await http.GetFromJsonAsync<JsonElement>("compute/hash?text=abc&rounds=1", TestContext.Current.CancellationToken);
        var blur = await http.PostAsJsonAsync("images/blur", new { width = 64, height = 48, radius = 2, seed = 7 }, TestContext.Current.CancellationToken);

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hash.GetProperty("sha256").GetString());
        Assert.Equal(Environment.ProcessId, hash.GetProperty("workerProcessId").GetInt32()); // the job ran here
        blur.EnsureSuccessStatusCode();

        var images = _app.Services.GetRequiredKeyedService<FakeProcessPool>(ImagePool.Name);
        Assert.Equal(typeof(BlurJob).FullName, Assert.Single(images.Calls).JobName); // the request resolved to its job class
        Assert.DoesNotContain(_app.Services.GetServices<IHostedService>(), s => s.GetType().Name == "ProcessPoolHostedService");
    }

    [Fact]
    public async Task A_lost_worker_reaches_the_client_as_503()
    {
        using var http = _app.CreateClient();
        _app.Services.GetRequiredService<FakeProcessPool>().FailNext(FakeFaults.WorkerLost());

        using var response = await http.GetAsync("compute/primes?limit=100", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
    }
}
