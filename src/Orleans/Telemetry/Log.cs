using Microsoft.Extensions.Logging;

namespace ProcessPools.Orleans.Telemetry;

/// <summary>
/// Every message of the cluster package, source-generated, with stable ids and names: 1-19 a front end's view of the
/// silos and its calls, 20-29 a silo's execution grain and its drain. An id is never reused for another message.
/// </summary>
internal static partial class Log
{
    /// <summary>The category of a cluster pool's front end.</summary>
    public const string FrontEndCategory = "ProcessPools.Orleans.ClusterProcessPool";

    /// <summary>The category of a silo's execution of cluster jobs.</summary>
    public const string ExecutionCategory = "ProcessPools.Orleans.Execution";

    [LoggerMessage(1, LogLevel.Information, "Cluster pool '{Pool}': silo {Silo} runs the process pool execution grain; it takes jobs now.", EventName = "SiloJoined")]
    public static partial void SiloJoined(ILogger logger, string pool, string silo);

    [LoggerMessage(2, LogLevel.Warning, "Silo {Silo} left the cluster with {InFlight} calls of cluster pool '{Pool}' in flight; they are retried or failed.", EventName = "SiloLeft")]
    public static partial void SiloLeft(ILogger logger, string silo, int inFlight, string pool);

    [LoggerMessage(3, LogLevel.Warning, "Cluster pool '{Pool}': call {Call} was lost between this front end and silo {Silo} ({What}); it is sent again or failed.", EventName = "CallLost")]
    public static partial void CallLost(ILogger logger, string pool, long call, string silo, string what);

    [LoggerMessage(4, LogLevel.Debug, "Cluster pool '{Pool}': silo {Silo} did not answer a report or a check.", EventName = "SiloNotAnswering")]
    public static partial void SiloNotAnswering(ILogger logger, Exception exception, string pool, string silo);

    [LoggerMessage(5, LogLevel.Debug, "Cluster pool '{Pool}': job '{Job}' never reached the pool of silo {Silo} ({Reason}); it is sent again, its retries untouched.", EventName = "CallResent")]
    public static partial void CallResent(ILogger logger, string pool, string job, string silo, string reason);

    [LoggerMessage(6, LogLevel.Information, "Cluster pool '{Pool}': silo {Silo} drains (it is stopping); it gets no more jobs.", EventName = "SiloDraining")]
    public static partial void SiloDraining(ILogger logger, string pool, string silo);

    [LoggerMessage(7, LogLevel.Information, "Cluster pool '{Pool}': the answer of call {Call} was lost on its way from silo {Silo}; the silo sent it again, so the job did not run twice.", EventName = "AnswerTakenAgain")]
    public static partial void AnswerTakenAgain(ILogger logger, string pool, long call, string silo);

    [LoggerMessage(20, LogLevel.Information, "This silo is stopping: its process pools take no new cluster jobs and finish the {Running} they run (at most {Limit}).", EventName = "DrainStarted")]
    public static partial void DrainStarted(ILogger logger, int running, TimeSpan limit);

    [LoggerMessage(21, LogLevel.Information, "This silo's cluster jobs finished in {Elapsed}; it leaves the cluster now.", EventName = "DrainCompleted")]
    public static partial void DrainCompleted(ILogger logger, TimeSpan elapsed);

    [LoggerMessage(22, LogLevel.Warning, "This silo leaves the cluster with {Running} cluster jobs still running after {Limit} (its pools' ShutdownTimeout); their front ends count them as lost.", EventName = "DrainTimedOut")]
    public static partial void DrainTimedOut(ILogger logger, int running, TimeSpan limit);
}
