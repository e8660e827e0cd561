using System.Text.Json;
using System.Text.Json.Serialization;
using ProcessPools.Operations;

namespace ProcessPools.Orleans.Contracts;

/// <summary>
/// How an operator's view of a silo's pool crosses to the front end: Hosting's public operator types, which carry no
/// Orleans serialization attributes, as source-generated JSON. Only a dashboard or a script asks for them, a few times
/// a second at most, so the format's cost does not matter; keeping one shape for them (the public one) does.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.General)]
[JsonSerializable(typeof(PoolInspection))]
[JsonSerializable(typeof(JobFailureRecord[]))]
[JsonSerializable(typeof(WorkerOutputLine[]))]
internal sealed partial class OperatorJson : JsonSerializerContext;
