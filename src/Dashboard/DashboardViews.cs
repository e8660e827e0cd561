using System.Text.Json;
using System.Text.Json.Serialization;
using ProcessPools.Operations;

namespace ProcessPools.Dashboard;

/// <summary>The JSON API's documents (version 1; docs/dashboard.md).</summary>
/// <param name="Version">The API's version: 1.</param>
/// <param name="At">When the snapshot was taken.</param>
/// <param name="History">In live events: "all" (every point kept, in the first event) or "latest" (the newest point,
/// to append); null in the pools document, which carries no history.</param>
/// <param name="HistoryPoints">How many points a pool's chart keeps (History / RefreshInterval).</param>
/// <param name="Pools">Every pool of the application.</param>
internal sealed record PoolsView(int Version, DateTimeOffset At, string? History, int HistoryPoints, IReadOnlyList<PoolView> Pools);

internal sealed record PoolView(
    string Name,
    string Kind,
    string Health,
    int Processes,
    int ChildConcurrency,
    int MaxTasksPerChild,
    bool AcceptingJobs,
    bool Draining,
    IReadOnlyList<int> Queues,
    int Queued,
    int Running,
    long Succeeded,
    long Failed,
    long Cancelled,
    long Retried,
    long Restarts,
    string? CrashLoop,
    IReadOnlyList<NodeView> Nodes,
    IReadOnlyList<WorkerView> Workers,
    IReadOnlyList<PointView>? History);

/// <summary>A cluster pool's silo; its numbers are null when it did not answer (<see cref="Error"/> says why).</summary>
internal sealed record NodeView(
    string Name,
    string State,
    int InFlight,
    int? Processes,
    int? Ready,
    int? Running,
    int? Queued,
    long? Succeeded,
    long? Failed,
    long? Restarts,
    bool Draining,
    string? CrashLoop,
    string? Error);

internal sealed record WorkerView(
    int WorkerId,
    string? Node,
    int? ProcessId,
    string State,
    int? Queue,
    DateTimeOffset? StartedAt,
    double? UptimeSeconds,
    long Completed,
    int? JobsUntilRecycle,
    DateTimeOffset? LastHeardFrom,
    string? PredecessorExit,
    long? MemoryBytes,
    double? CpuPercent,
    IReadOnlyList<JobView> Running);

internal sealed record JobView(long JobId, string Name, int Items, int Attempt, double RunningSeconds);

/// <summary>One point of a pool's charts: rates over the interval before <see cref="At"/>.</summary>
internal sealed record PointView(DateTimeOffset At, double Throughput, double Failures, double? P50Ms, double? P95Ms, int Queued, int Running);

internal sealed record FailureView(
    string Pool,
    string? Node,
    DateTimeOffset At,
    long JobId,
    string JobName,
    string Outcome,
    string ExceptionType,
    string Message,
    string? StackTrace,
    int? ProcessId,
    IReadOnlyList<string> StandardErrorTail,
    int Attempt,
    bool Retried);

internal sealed record FailuresView(int Version, int Total, IReadOnlyList<FailureView> Failures);

internal sealed record OutputView(int Version, string Pool, string? Node, int WorkerId, IReadOnlyList<WorkerOutputLine> Lines);

internal sealed record ActionView(string Pool, string Action, string Target, string Result);

internal sealed record ProblemView(string Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(PoolsView))]
[JsonSerializable(typeof(FailuresView))]
[JsonSerializable(typeof(OutputView))]
[JsonSerializable(typeof(ActionView))]
[JsonSerializable(typeof(ProblemView))]
internal sealed partial class DashboardJson : JsonSerializerContext;
