namespace ProcessPools.Transport;

/// <summary>
/// A pool's job classes by argument type: what <c>SendAsync</c> requests resolve to, and the check that a job class
/// is registered before it is sent. Every pool (local, cluster, in-process for tests) resolves through this one.
/// </summary>
public sealed class JobClasses
{
    private readonly string _poolName;
    private readonly Dictionary<Type, JobTarget> _jobsByArgument = [];

    /// <summary>Creates the map of a pool's registered job classes.</summary>
    /// <param name="poolName">The pool's name, for messages.</param>
    /// <param name="jobClasses">The targets of its job classes (<see cref="JobTarget.FromJobType"/>).</param>
    /// <exception cref="InvalidOperationException">Two job classes take the same argument type.</exception>
    public JobClasses(string poolName, IEnumerable<JobTarget> jobClasses)
    {
        ArgumentNullException.ThrowIfNull(poolName);
        ArgumentNullException.ThrowIfNull(jobClasses);
        _poolName = poolName;
        foreach (var target in jobClasses)
        {
            var argumentType = target.ParameterTypes[0];
            if (_jobsByArgument.TryGetValue(argumentType, out var other))
            {
                throw new InvalidOperationException(
                    $"The job classes '{other.Name}' and '{target.Name}' of process pool '{poolName}' both take {argumentType}; SendAsync could not choose. Give each its own argument type.");
            }

            _jobsByArgument.Add(argumentType, target);
        }
    }

    /// <summary>
    /// The target a job runs as: a request becomes the job class registered for its type (or a base type);
    /// a job class must be registered, so the worker has it in its container and a missing one fails here
    /// rather than in the child.
    /// </summary>
    /// <exception cref="InvalidOperationException">No registration fits.</exception>
    public JobTarget Resolve(JobTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        switch (target.Kind)
        {
            case JobTargetKind.Request:
                var requestType = target.ParameterTypes[0];
                for (var type = requestType; type is not null; type = type.BaseType)
                {
                    if (_jobsByArgument.TryGetValue(type, out var registered))
                    {
                        return registered.ResultType == target.ResultType
                            ? registered
                            : throw new InvalidOperationException(
                                $"The job class '{registered.Name}' of process pool '{_poolName}' handles {requestType} but returns {registered.ResultType}, not {target.ResultType}.");
                    }
                }

                throw new InvalidOperationException(
                    $"No job class of process pool '{_poolName}' takes a {requestType}. Register one that implements IProcessJob<{requestType.Name}, {target.ResultType.Name}> with AddProcessPool(...).AddJob<TJob>().");
            case JobTargetKind.JobClass when !(_jobsByArgument.TryGetValue(target.ParameterTypes[0], out var registered) && registered == target):
                throw new InvalidOperationException(
                    $"The job class '{target.Name}' is not registered with process pool '{_poolName}'. Add it with AddProcessPool(...).AddJob<{target.JobType!.Name}>().");
            default:
                return target;
        }
    }
}
