using System.Collections.Concurrent;
using ProcessPools.Transport;

namespace ProcessPools.Dispatch;

/// <summary>
/// The jobs a pool knows: its registered job classes (<see cref="JobClasses"/>, which <c>SendAsync</c> requests
/// resolve to), and the number the channel names each target by once a worker has learnt it.
/// </summary>
internal sealed class JobRegistry(string poolName, IEnumerable<JobTarget> jobClasses)
{
    // Process-wide: a target has one number on every channel, so a job retried on another worker keeps its frame.
    private static readonly ConcurrentDictionary<JobTarget, int> Numbers = new();
    private static int s_lastNumber;

    private readonly JobClasses _jobClasses = new(poolName, jobClasses);

    /// <summary>The number of a target on the channel; the same for every worker of the process.</summary>
    public static int NumberOf(JobTarget target) =>
        Numbers.TryGetValue(target, out var number) ? number : Numbers.GetOrAdd(target, static _ => Interlocked.Increment(ref s_lastNumber));

    /// <inheritdoc cref="JobClasses.Resolve"/>
    public JobTarget Resolve(JobTarget target) => _jobClasses.Resolve(target);
}
