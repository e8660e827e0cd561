using ProcessPools.Orleans.Contracts;
using static ProcessPools.ProcessPoolDiagnostics;

namespace ProcessPools.Orleans.FrontEnd;

/// <summary>
/// What a call's end means to its caller: whether a failure proves the call never reached a silo's pool (so it is sent
/// again freely), the outcome tag of a reply, and the exception a reply that did not succeed becomes (the type a local
/// pool throws).
/// </summary>
internal static class CallFailures
{
    /// <summary>Why a call that failed never reached the silo's pool (so it never ran), or <see langword="null"/> when it may have.</summary>
    public static string? NeverReached(Exception exception, SiloEntry silo, InFlightCall call) => exception switch
    {
        _ when call.IsOrphaned => call.NeverArrived ? "the silo never received it" : null,
        _ when silo.IsLost => null,

        // The pinned grain could not be placed: the silo that placed it does not see the target silo (yet, or any more).
        // Or a stopping silo refused to address the message ("Silo '...' is shutting down.", Orleans' PlacementService).
        SiloUnavailableException when exception.Message.Contains(Placement.SiloPinnedPlacementDirector.NotPlaceable, StringComparison.Ordinal)
            || exception.Message.EndsWith("is shutting down.", StringComparison.Ordinal) => exception.Message,

        // Any other unavailable silo may have had the call (a silo that dies with it running): not known to be unreached.
        SiloUnavailableException => null,

        // Orleans rejects a message before any grain runs it: no live gateway ("No gateways available"), a gateway too busy;
        // or no connection could be made to the silo (it was killed, and membership has not declared it dead yet).
        OrleansMessageRejectionException or global::Orleans.Runtime.Messaging.ConnectionFailedException or global::Orleans.Networking.Shared.SocketConnectionException => exception.Message,
        _ => null,
    };

    public static string OutcomeOf(JobOutcome outcome) => outcome switch
    {
        JobOutcome.Succeeded => Outcomes.Success,
        JobOutcome.Canceled => Outcomes.Cancelled,
        JobOutcome.TimedOut => Outcomes.TimedOut,
        JobOutcome.WorkerLost => Outcomes.WorkerLost,
        _ => Outcomes.Failed,
    };

    public static TimeoutException TimedOut(string jobName, TimeSpan timeout, string what) =>
        new($"Job '{jobName}' did not finish within {timeout} (its timeout); {what}.");

    /// <summary>The exception a caller gets for a job that did not succeed on its silo: the same type a local pool throws.</summary>
    public static Exception ErrorOf(JobReply reply, string jobName, string silo, CancellationToken cancellationToken)
    {
        var error = reply.Error;
        var message = error?.Message ?? "(no message)";
        return reply.Outcome switch
        {
            JobOutcome.Faulted => ToRemote(error!, jobName),
            JobOutcome.Canceled => cancellationToken.IsCancellationRequested
                ? new OperationCanceledException(message, null, cancellationToken)
                : new OperationCanceledException($"Job '{jobName}' was cancelled on silo {silo}: {message}"),
            JobOutcome.TimedOut => new TimeoutException($"{message} (on silo {silo})"),
            JobOutcome.WorkerLost => new WorkerLostException(
                jobName, error?.ProcessId ?? 0, error?.ExitCode, $"on silo {silo} {error?.Reason ?? message}", error?.StandardErrorTail ?? []),
            _ => new InvalidOperationException($"Silo {silo} could not run job '{jobName}': {message}"),
        };
    }

    public static RemoteJobException ToRemote(RemoteFault fault, string jobName) =>
        new(jobName, fault.TypeHierarchy, fault.Message, fault.StackTrace, fault.Inner?.Select(i => ToRemote(i, jobName)).ToArray());
}
