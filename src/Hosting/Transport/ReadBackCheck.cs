using System.Collections.Concurrent;
using ProcessPools.Jobs;

namespace ProcessPools.Transport;

/// <summary>
/// Refuses, at the call site, a job whose arguments or result the serializer would write but could not read back
/// (<see cref="IJobSerializer.CanDeserialize"/>; with System.Text.Json, an abstract class or an interface without type
/// discriminators). Without it such a call fails in the worker, or, for a result, only after the job has run and done
/// its work. Each job is judged once per serializer.
/// </summary>
internal sealed class ReadBackCheck(IJobSerializer serializer)
{
    private readonly ConcurrentDictionary<JobTarget, string?> _verdicts = new();

    /// <exception cref="ArgumentException">A sent parameter or the result of <paramref name="target"/> could not be read back.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter, the job, as the call-site checks of a job do.")]
    public void ThrowIfUnreadable(JobTarget target)
    {
        if ((_verdicts.TryGetValue(target, out var why) ? why : _verdicts.GetOrAdd(target, Judge)) is { } problem)
        {
            throw new ArgumentException(problem, "job");
        }
    }

    private string? Judge(JobTarget target)
    {
        var types = target.ParameterTypes;
        for (var i = 0; i < types.Count; i++)
        {
            // A progress sink stays with the caller: only whether there is one crosses.
            if (JobShape.ProgressValueType(types[i]) is null && !serializer.CanDeserialize(types[i], out var reason))
            {
                return $"Argument {i + 1} of job '{target.Name}' ({types[i]}) could be written but not read in its worker: {reason} Nothing was sent.";
            }
        }

        return target.ResultType != typeof(void) && !serializer.CanDeserialize(target.ResultType, out var unreadable)
            ? $"The result of job '{target.Name}' ({target.ResultType}) could not be read back from its worker: {unreadable} Nothing was sent: the job would have run and its result been lost."
            : null;
    }
}
