using System.Text.Json;
using ProcessPools.Operations;
using ProcessPools.Orleans.Contracts;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>
/// A cluster pool's <see cref="IProcessPoolOperator"/>: asks each silo's execution grain, which answers for the silo's
/// own pool through that pool's operator. An inspection sums the silos' pools and lists each silo as a node; a silo that
/// does not answer within <see cref="AnswerTimeout"/> shows as unreachable, and the rest still answer. An action on a
/// worker or a job names its silo; draining and resuming reach every silo.
/// </summary>
internal sealed class ClusterOperator(ClusterProcessPool pool, TimeProvider time) : IProcessPoolOperator
{
    /// <summary>How long a silo has to answer an operator's question or action.</summary>
    internal static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    public string Name => pool.Name;

    private SiloEntry[] Silos => [.. pool.Directory.Silos.Where(s => !s.IsLost).OrderBy(s => s.Name, StringComparer.Ordinal)];

    public async ValueTask<PoolInspection> InspectAsync(CancellationToken cancellationToken = default)
    {
        var silos = Silos;
        var nodes = await Task.WhenAll(silos.Select(s => InspectAsync(s, cancellationToken))).ConfigureAwait(false);
        var pools = nodes.Where(n => n.Pool is not null).Select(n => n.Pool!).ToArray();
        return new PoolInspection
        {
            Name = pool.Name,
            At = time.GetUtcNow(),
            Processes = pools.Sum(p => p.Processes),
            ChildConcurrency = pools.Length == 0 ? 0 : pools.Max(p => p.ChildConcurrency),
            MaxTasksPerChild = pools.Length == 0 ? 0 : pools.Max(p => p.MaxTasksPerChild),
            IsAcceptingJobs = pool.IsRunning && nodes.Any(n => n.State == NodeStates.Active),
            IsDraining = pools.Length > 0 && pools.All(p => p.IsDraining),
            QueueLengths = [.. pools.Select(p => p.QueueLengths.Sum())],
            Running = pools.Sum(p => p.Running),
            Succeeded = pools.Sum(p => p.Succeeded),
            Failed = pools.Sum(p => p.Failed),
            Cancelled = pools.Sum(p => p.Cancelled),
            Retried = pools.Sum(p => p.Retried),
            Restarts = pools.Sum(p => p.Restarts),
            CrashLoop = nodes.Where(n => n.Pool?.CrashLoop is not null).Select(n => $"{n.Name}: {n.Pool!.CrashLoop}").FirstOrDefault()
                ?? (silos.Length == 0 ? "No silo of the cluster runs the process pool execution grain." : null),
            Workers = [.. pools.SelectMany(p => p.Workers)],
            Nodes = nodes,
        };
    }

    private async Task<NodeInspection> InspectAsync(SiloEntry silo, CancellationToken cancellationToken)
    {
        var state = silo.IsDraining ? NodeStates.Stopping : NodeStates.Active;
        try
        {
            var bytes = await AskAsync(silo, silo.Grain.InspectAsync(), cancellationToken).ConfigureAwait(false);
            var inspection = JsonSerializer.Deserialize(bytes, OperatorJson.Default.PoolInspection)
                ?? throw new InvalidDataException("The silo answered an empty inspection.");
            return new NodeInspection { Name = silo.Name, State = state, InFlight = silo.InFlight, Pool = inspection };
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return new NodeInspection { Name = silo.Name, State = NodeStates.Unreachable, InFlight = silo.InFlight, Error = exception.Message };
        }
    }

    public async ValueTask<IReadOnlyList<JobFailureRecord>> RecentFailuresAsync(CancellationToken cancellationToken = default)
    {
        var answers = await Task.WhenAll(Silos.Select(async silo =>
        {
            try
            {
                var bytes = await AskAsync(silo, silo.Grain.RecentFailuresAsync(), cancellationToken).ConfigureAwait(false);
                return JsonSerializer.Deserialize(bytes, OperatorJson.Default.JobFailureRecordArray) ?? [];
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return []; // an unreachable silo's failures show again once it answers
            }
        })).ConfigureAwait(false);
        return [.. answers.SelectMany(a => a).OrderByDescending(f => f.At).Take(200)];
    }

    public async ValueTask<IReadOnlyList<WorkerOutputLine>?> WorkerOutputAsync(int workerId, string? node = null, CancellationToken cancellationToken = default)
    {
        if (Find(node) is not { } silo)
        {
            return null;
        }

        var bytes = await AskAsync(silo, silo.Grain.WorkerOutputAsync(workerId), cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : JsonSerializer.Deserialize(bytes, OperatorJson.Default.WorkerOutputLineArray);
    }

    public IDisposable ObserveDurations() => pool.Telemetry.Durations.Observe();

    public IReadOnlyList<TimeSpan> TakeDurations() => pool.Telemetry.Durations.Take();

    public ValueTask<OperatorAnswer> RecycleWorkerAsync(int workerId, string? node = null, CancellationToken cancellationToken = default) =>
        OnNodeAsync(node, OperatorAction.Recycle, workerId, cancellationToken);

    public ValueTask<OperatorAnswer> KillWorkerAsync(int workerId, string? node = null, CancellationToken cancellationToken = default) =>
        OnNodeAsync(node, OperatorAction.Kill, workerId, cancellationToken);

    public ValueTask<OperatorAnswer> CancelJobAsync(long jobId, string? node = null, CancellationToken cancellationToken = default) =>
        OnNodeAsync(node, OperatorAction.Cancel, jobId, cancellationToken);

    public ValueTask<OperatorAnswer> DrainAsync(CancellationToken cancellationToken = default) => OnEveryNodeAsync(OperatorAction.Drain, cancellationToken);

    public ValueTask<OperatorAnswer> ResumeDispatchAsync(CancellationToken cancellationToken = default) => OnEveryNodeAsync(OperatorAction.Resume, cancellationToken);

    private SiloEntry? Find(string? node) => node is null ? null : Silos.FirstOrDefault(s => s.Name == node);

    /// <summary>An action on one silo's pool; a silo that does not answer in time fails it with a <see cref="TimeoutException"/>.</summary>
    private async ValueTask<OperatorAnswer> OnNodeAsync(string? node, OperatorAction action, long target, CancellationToken cancellationToken)
    {
        if (!pool.IsRunning)
        {
            return OperatorAnswer.Closing;
        }

        if (Find(node) is not { } silo)
        {
            return OperatorAnswer.NotFound;
        }

        return (OperatorAnswer)await AskAsync(silo, silo.Grain.OperateAsync(action, target), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An action on every silo's pool: done when any took it; a silo that does not answer in time fails it.</summary>
    private async ValueTask<OperatorAnswer> OnEveryNodeAsync(OperatorAction action, CancellationToken cancellationToken)
    {
        if (!pool.IsRunning)
        {
            return OperatorAnswer.Closing;
        }

        var answers = await Task.WhenAll(Silos.Select(s => AskAsync(s, s.Grain.OperateAsync(action, 0), cancellationToken))).ConfigureAwait(false);
        return answers.Any(a => (OperatorAnswer)a == OperatorAnswer.Done) ? OperatorAnswer.Done : OperatorAnswer.NotFound;
    }

    private async Task<T> AskAsync<T>(SiloEntry silo, Task<T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(AnswerTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Silo {silo.Name} did not answer within {AnswerTimeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>The states of <see cref="NodeInspection.State"/>.</summary>
    internal static class NodeStates
    {
        public const string Active = "Active";
        public const string Stopping = "Stopping";
        public const string Unreachable = "Unreachable";
    }
}
