using System.Diagnostics.Metrics;
using Orleans.TestingHost;
using ProcessPools.Orleans;

namespace ProcessPools.ClusterTests;

/// <summary>Silos that leave or join a cluster in the middle of the work: each test has a cluster of its own.</summary>
public sealed class SiloLossTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_silo_killed_mid_map_loses_no_item_and_answers_none_twice()
    {
        await using var fixture = new ClusterFixture();
        await fixture.InitializeAsync();
        var doomed = await fixture.Cluster.StartAdditionalSiloAsync();
        await fixture.WaitForSilosAsync(3);
        using var lost = CountSiloLosses(fixture);

        // Items of 2 s: those the doomed silo runs cannot finish before it dies (its pool does not wait at shutdown).
        var map = fixture.Pool.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 2000, ct), Enumerable.Range(0, 60));
        await WaitUntilRunningAsync(fixture, doomed);
        var killedPids = (await fixture.SiloOfWorkersAsync()).Where(w => w.Value == doomed.SiloAddress.ToString()).Select(w => w.Key).ToHashSet();
        await fixture.Cluster.KillSiloAsync(doomed);

        var answered = await map;
        Assert.Equal(Enumerable.Range(0, 60), answered.Select(ClusterJobs.ItemOf)); // every item once, in input order
        Assert.DoesNotContain(answered, t => killedPids.Contains(ClusterJobs.PidOf(t))); // what it ran was lost with it, and ran again elsewhere
        Assert.True(lost.Value > 0, $"no item was in flight on the killed silo, so nothing was retried; outcomes: {string.Join(", ", lost.Seen.Select(p => $"{p.Key}={p.Value}"))}");
    }

    [Fact]
    public async Task Without_retries_a_job_on_a_killed_silo_fails_naming_the_silo_and_nothing_hangs()
    {
        await using var fixture = new ClusterFixture();
        await fixture.InitializeAsync();
        var doomed = await fixture.Cluster.StartAdditionalSiloAsync();
        await fixture.WaitForSilosAsync(3);

        using var rest = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var jobs = Enumerable.Range(0, 9).Select(i => fixture.NoRetry.ApplyAsync(ClusterJobs.TagAsync, i, 600_000, rest.Token)).ToArray();
        await WaitUntilRunningAsync(fixture, doomed);
        await fixture.Cluster.KillSiloAsync(doomed);

        var failure = await Assert.ThrowsAsync<SiloLostException>(() => Task.WhenAny(jobs.Select(async j => await j)).Unwrap());
        Assert.Equal(doomed.SiloAddress.ToString(), failure.Silo);
        Assert.Contains(doomed.SiloAddress.ToString(), failure.Message);

        // The jobs on the other silos still run; cancelled, every call ends.
        await rest.CancelAsync();
        var outcomes = await Task.WhenAll(jobs.Select(async j =>
        {
            try
            {
                await j;
                return "answered";
            }
            catch (Exception exception)
            {
                return exception.GetType().Name;
            }
        }));
        Assert.All(outcomes, o => Assert.Contains(o, new[] { nameof(SiloLostException), nameof(TaskCanceledException), nameof(OperationCanceledException) }));
        Assert.Contains(nameof(SiloLostException), outcomes);
    }

    [Fact]
    public async Task A_silo_that_joins_mid_map_receives_work()
    {
        await using var fixture = new ClusterFixture();
        await fixture.InitializeAsync();
        using var outcomes = CountSiloLosses(fixture);
        var joinedSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The input holds back its second part until the cluster pool can use the new silo: the map runs on meanwhile.
        async IAsyncEnumerable<int> Items()
        {
            for (var i = 0; i < 40; i++)
            {
                yield return i;
            }

            await joinedSeen.Task;
            for (var i = 40; i < 240; i++)
            {
                yield return i;
            }
        }

        var map = fixture.Pool.Map(static (int x, CancellationToken ct) => ClusterJobs.TagAsync(x, 150, ct), Items());
        var joined = await fixture.Cluster.StartAdditionalSiloAsync();
        await fixture.WaitForSilosAsync(3);
        joinedSeen.SetResult();
        var answered = await map;

        Assert.Equal(Enumerable.Range(0, 240), answered.Select(ClusterJobs.ItemOf));
        var silos = await fixture.SiloOfWorkersAsync();
        var onNewSilo = answered.Count(t => silos.GetValueOrDefault(ClusterJobs.PidOf(t)) == joined.SiloAddress.ToString());
        Assert.True(onNewSilo > 0, $"the silo that joined ran none of the map's items; calls: {string.Join(", ", outcomes.Seen.Select(p => $"{p.Key}={p.Value}"))}");
    }

    /// <summary>Waits until the silo's pool runs jobs of the test.</summary>
    internal static async Task WaitUntilRunningAsync(ClusterFixture fixture, SiloHandle silo)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var status = await fixture.Pool.GetStatusAsync(Token);
            if (status.Workers.Any(w => w.Node == silo.SiloAddress.ToString() && w.InFlight > 0))
            {
                return;
            }

            await Task.Delay(50, Token); // a status is asked of the silos, there is no event to wait for
        }

        Assert.Fail($"silo {silo.SiloAddress} never ran a job");
    }

    /// <summary>
    /// Counts the items the fixture's client saw lost with their silo (the cluster pool's metric, by outcome). Only its
    /// own meters count: test classes run in parallel, each with a cluster of its own, in this one process.
    /// </summary>
    internal static Counted CountSiloLosses(ClusterFixture fixture)
    {
        var counted = new Counted();
        var scope = fixture.Cluster.Client.ServiceProvider.GetRequiredService<IMeterFactory>();
        counted.Listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ProcessPoolDiagnostics.MeterName && instrument.Name == ProcessPoolDiagnostics.Instruments.ClusterJobsCompleted
                && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        counted.Listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == ProcessPoolDiagnostics.Tags.Outcome)
                {
                    var silo = string.Empty;
                    foreach (var other in tags)
                    {
                        silo = other.Key == ProcessPoolDiagnostics.Tags.Silo ? (string)other.Value! : silo;
                    }

                    counted.Seen.AddOrUpdate($"{silo} {tag.Value}", value, (_, v) => v + value);
                }

                if (tag.Key == ProcessPoolDiagnostics.Tags.Outcome && (string?)tag.Value == ProcessPoolDiagnostics.Outcomes.SiloLost)
                {
                    Interlocked.Add(ref counted.Total, value);
                }
            }
        });
        counted.Listener.Start();
        return counted;
    }

    internal sealed class Counted : IDisposable
    {
        public long Total;

        public System.Collections.Concurrent.ConcurrentDictionary<string, long> Seen { get; } = new();

        public MeterListener Listener { get; } = new();

        public long Value => Interlocked.Read(ref Total);

        public void Dispose() => Listener.Dispose();
    }
}
