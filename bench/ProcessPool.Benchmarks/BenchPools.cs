using System.Text.Json.Serialization;

namespace ProcessPools.Benchmarks;

/// <summary>
/// The pools of the workloads, all with the same serializer: System.Text.Json over source-generated metadata, which a
/// Native AOT build needs and every build uses, so the builds compare like with like (integers take the serializer's
/// direct path in each).
/// </summary>
internal static class BenchPools
{
    public static Task<IProcessPoolOwner> StartAsync(Action<ProcessPoolOptions>? configure = null) => ProcessPool.StartAsync(options =>
    {
        options.Serializer = new BenchSerializer();
        configure?.Invoke(options);
    });
}

public sealed class BenchSerializer() : JsonJobSerializer(BenchJson.Default);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(byte[]))]
[JsonSerializable(typeof(Results))]
internal sealed partial class BenchJson : JsonSerializerContext;

/// <summary>What results.json holds.</summary>
internal sealed record Results(
    [property: JsonPropertyName("machine")] string Machine,
    [property: JsonPropertyName("rows")] IReadOnlyList<Row> Rows);
