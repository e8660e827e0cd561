using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ProcessPools;
using ProcessPools.Generated;
using ProcessPools.TestApp;
using ProcessPools.Worker;

if (WorkerEntryPoint.IsWorkerProcess)
{
    return await WorkerEntryPoint.RunAsync();
}

switch (args.FirstOrDefault())
{
    case "mismatch":
        // A parent whose compile-time registry has an entry its workers' build lacks, as when the parent and the
        // workers come from different builds: the handshake must refuse the workers.
        GeneratedRegistry.AddJob(new GeneratedJob { Id = "test:parent-only", Name = "parent-only job", SentTypes = [], ResultType = typeof(int), Binder = static _ => throw new InvalidOperationException("never bound") });
        try
        {
            await using var pool = await ProcessPool.StartAsync(static options => (options.Processes, options.Serializer) = (1, new TestSerializer()));
            Console.WriteLine("STARTED: the worker was not refused");
            return 1;
        }
        catch (ProcessPoolException exception)
        {
            Console.WriteLine($"REFUSED: {exception.Message}");
            return 0;
        }

    case "options":
        // Options bound from appsettings.json by the configuration binding generator, in whatever shape this was published.
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddProcessPool(builder.Configuration.GetSection("ProcessPool"));
        builder.Services.Configure<ProcessPoolOptions>(static options => options.Serializer = new TestSerializer());
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var options = host.Services.GetRequiredService<IOptionsMonitor<ProcessPoolOptions>>().Get(Options.DefaultName);
            Console.WriteLine($"OPTIONS Processes={options.Processes} ChildConcurrency={options.ChildConcurrency} MaxRetries={options.MaxRetries} HeartbeatInterval={options.HeartbeatInterval} LaunchMode={options.LaunchMode}");
            var pool = host.Services.GetRequiredService<IProcessPool>();
            var squares = await pool.Map(static (int x) => Task.FromResult(new Square(x * x, Environment.ProcessId)), Enumerable.Range(1, 300));
            Console.WriteLine($"MAP {string.Join(",", squares.Take(3).Select(s => s.Value))} from {squares.Select(s => s.Pid).Distinct().Count()} workers");
            await host.StopAsync();
        }

        return 0;

    default:
        Console.Error.WriteLine("usage: ProcessPool.TestApp mismatch|options");
        return 2;
}

namespace ProcessPools.TestApp
{
    public sealed record Square(int Value, int Pid);

    /// <summary>Source-generated JSON metadata: a trimmed application has no reflection-based serialization.</summary>
    public sealed class TestSerializer() : JsonJobSerializer(TestJson.Default);

    [JsonSerializable(typeof(int))]
    [JsonSerializable(typeof(Square))]
    internal sealed partial class TestJson : JsonSerializerContext;
}
