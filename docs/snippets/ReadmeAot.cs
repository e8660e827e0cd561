#pragma warning disable CA1812, CA1515
// snippet: readme-aot
using System.Text.Json.Serialization;
using ProcessPools;
using ProcessPools.Worker;

// The workers of a Native AOT application are the application itself, relaunched: hand over first thing.
if (WorkerEntryPoint.IsWorkerProcess)
{
    return await WorkerEntryPoint.RunAsync();
}

await using var pool = await ProcessPool.StartAsync(options => options.Serializer = new AppSerializer());
var lengths = await pool.Map(Files.LengthAsync, ["a.png", "b.png"]); // named at compile time: no reflection
return 0;

public static class Files
{
    public static Task<long> LengthAsync(string path) => Task.FromResult(new FileInfo(path).Length);
}

// No reflection-based JSON under Native AOT: the parent and every worker read source-generated metadata.
public sealed class AppSerializer() : JsonJobSerializer(AppJson.Default);

[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(long))]
internal sealed partial class AppJson : JsonSerializerContext;
// end snippet
