using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using ProcessPools;

namespace WorkerServiceSample;

public sealed class FeedOptions
{
    public const string Section = "Feed";

    /// <summary>How many readings the simulated sensor produces; 0 for an endless stream.</summary>
    [Range(0, int.MaxValue)]
    public int Count { get; set; } = 2000;

    /// <summary>The pause between readings.</summary>
    [Range(0, 60_000)]
    public int IntervalMilliseconds { get; set; }

    /// <summary>Stop the application once a finite stream is processed.</summary>
    public bool StopWhenDone { get; set; } = true;
}

public sealed record Reading(long Sequence, double[] Samples);

public sealed record Analysis(long Sequence, double Mean, double StandardDeviation, bool Anomaly, int WorkerProcessId);

/// <summary>
/// The worker-service pattern: a <see cref="BackgroundService"/> feeds a stream through the pool. The feed is
/// pulled lazily (the pool takes at most its map window ahead of the results), results come back in order.
/// </summary>
public sealed partial class ReadingsProcessor(IProcessPool pool, IOptions<FeedOptions> options, IHostApplicationLifetime lifetime, ILogger<ReadingsProcessor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var feed = options.Value;
        var clock = Stopwatch.StartNew();
        long processed = 0, anomalies = 0, expected = 0;
        var workers = new HashSet<int>();
        try
        {
            await foreach (var analysis in pool.Map(AnalysisJobs.AnalyzeAsync, ReadSensorAsync(feed, stoppingToken), stoppingToken))
            {
                if (analysis.Sequence != expected++)
                {
                    throw new InvalidOperationException($"Reading {analysis.Sequence} arrived where {expected - 1} was due.");
                }

                processed++;
                anomalies += analysis.Anomaly ? 1 : 0;
                workers.Add(analysis.WorkerProcessId);
                if (processed % 500 == 0)
                {
                    LogProgress(logger, processed, anomalies);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            LogStopped(logger, processed);
            return;
        }

        LogDone(logger, processed, anomalies, workers.Count, clock.Elapsed.TotalMilliseconds);
        if (feed.StopWhenDone)
        {
            lifetime.StopApplication();
        }
    }

    /// <summary>A simulated sensor: a lazy, possibly endless stream of readings.</summary>
    private static async IAsyncEnumerable<Reading> ReadSensorAsync(FeedOptions feed, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var random = new Random(7);
        for (long sequence = 0; feed.Count == 0 || sequence < feed.Count; sequence++)
        {
            if (feed.IntervalMilliseconds > 0)
            {
                await Task.Delay(feed.IntervalMilliseconds, cancellationToken);
            }

            var samples = new double[256];
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i] = 20 + (random.NextDouble() * 2) + (sequence % 97 == 0 ? 15 : 0);
            }

            yield return new Reading(sequence, samples);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Processed {Processed} readings so far, {Anomalies} anomalies.")]
    private static partial void LogProgress(ILogger logger, long processed, long anomalies);

    [LoggerMessage(2, LogLevel.Information, "Processed {Processed} readings in order: {Anomalies} anomalies, {Workers} worker processes, {Milliseconds:0} ms.")]
    private static partial void LogDone(ILogger logger, long processed, long anomalies, int workers, double milliseconds);

    [LoggerMessage(3, LogLevel.Information, "Stopping after {Processed} readings.")]
    private static partial void LogStopped(ILogger logger, long processed);
}

public static class AnalysisJobs
{
    /// <summary>Runs in a worker: statistics of one reading, flagged when its mean is far from the expected level.</summary>
    public static Task<Analysis> AnalyzeAsync(Reading reading)
    {
        var mean = reading.Samples.Average();
        var variance = reading.Samples.Sum(s => (s - mean) * (s - mean)) / reading.Samples.Length;
        return Task.FromResult(new Analysis(reading.Sequence, mean, Math.Sqrt(variance), Math.Abs(mean - 21) > 5, Environment.ProcessId));
    }
}
