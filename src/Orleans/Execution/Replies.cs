using ProcessPools.Orleans.Contracts;

namespace ProcessPools.Orleans.Execution;

/// <summary>Turns what the silo's pool threw into a reply the front end turns back into the same exception.</summary>
internal static class Replies
{
    public static JobReply Of(Exception exception) => exception switch
    {
        RemoteJobException remote => new() { Outcome = JobOutcome.Faulted, Error = FaultOf(remote) },
        TimeoutException timeout => new() { Outcome = JobOutcome.TimedOut, Error = Plain(timeout) },
        OperationCanceledException canceled => new() { Outcome = JobOutcome.Canceled, Error = Plain(canceled) },
        WorkerLostException lost => new() { Outcome = JobOutcome.WorkerLost, Error = Plain(lost) with { ProcessId = lost.ProcessId, ExitCode = lost.ExitCode, Reason = lost.Reason, StandardErrorTail = [.. lost.StandardErrorTail] } },
        _ => new() { Outcome = JobOutcome.Refused, Error = Plain(exception) },
    };

    /// <summary>The answer of a call the silo did not start because it drains.</summary>
    public static JobReply Draining(string why) =>
        new() { Outcome = JobOutcome.Draining, Error = new RemoteFault { TypeHierarchy = [typeof(InvalidOperationException).FullName!], Message = why } };

    /// <summary>The job's own exception, as its worker reported it: the type, message and stack of the first hop, kept.</summary>
    public static RemoteFault FaultOf(RemoteJobException remote) => new()
    {
        TypeHierarchy = [.. remote.RemoteTypeHierarchy],
        Message = remote.RemoteMessage,
        StackTrace = remote.RemoteStackTrace,
        Inner = remote.InnerExceptions.Count == 0 ? null : [.. remote.InnerExceptions.Select(FaultOf)],
    };

    /// <summary>What the silo's pool itself threw (not a job's exception): its type hierarchy, message and stack, as a worker reports a fault.</summary>
    private static RemoteFault Plain(Exception exception)
    {
        List<string> types = [];
        for (var type = exception.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            types.Add(type.FullName ?? type.Name);
        }

        return new RemoteFault { TypeHierarchy = [.. types], Message = exception.Message, StackTrace = exception.StackTrace };
    }
}
