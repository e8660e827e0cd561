using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using ProcessPools;

namespace AotSample;

/// <summary>What a map item comes back as: the answer and who computed it.</summary>
public sealed record Answer(long Square, int Pid, bool Initialized);

/// <summary>How many job failures a worker's exception handler has seen.</summary>
public sealed record FailureCount(int Pid, int Failures);

/// <summary>A request for the job class below: <c>pool.SendAsync(new ChecksumRequest(...))</c>.</summary>
public sealed record ChecksumRequest(string Text) : IJobRequest<ChecksumResult>;

public sealed record ChecksumResult(string Sha256, int Pid);

/// <summary>The serializer the parent and every worker use: System.Text.Json over source-generated metadata.</summary>
public sealed class SampleSerializer() : JsonJobSerializer(SampleJson.Default);

[JsonSourceGenerationOptions(IncludeFields = true)]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Answer))]
[JsonSerializable(typeof(FailureCount))]
[JsonSerializable(typeof(ChecksumRequest))]
[JsonSerializable(typeof(ChecksumResult))]
internal sealed partial class SampleJson : JsonSerializerContext;

/// <summary>Static jobs: named at compile time, called in the worker through generated code.</summary>
public static class Jobs
{
    public static Task<Answer> SquareAsync(int x) => Task.FromResult(new Answer((long)x * x, Environment.ProcessId, WorkerMemory.Initialized));

    public static Task<int> FailAsync(string input) => throw new FormatException($"Cannot parse '{input}'.");

    public static async Task<int> WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }
}

/// <summary>What the initializer and the exception handler leave in a worker process.</summary>
public static class WorkerMemory
{
    private static int s_failures;

    public static bool Initialized { get; set; }

    public static int Failures => Volatile.Read(ref s_failures);

    public static void CountFailure() => Interlocked.Increment(ref s_failures);
}

/// <summary>Runs once in each worker before its first job.</summary>
public sealed partial class WarmUp(ILogger<WarmUp> logger) : IWorkerInitializer
{
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        WorkerMemory.Initialized = true;
        WarmedUp(logger, Environment.ProcessId);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {Pid} warmed up")]
    private static partial void WarmedUp(ILogger logger, int pid);
}

/// <summary>Sees every failed job in the worker, before the exception goes back to the caller.</summary>
public sealed class CountFailures : IJobExceptionHandler
{
    public ValueTask OnJobFailedAsync(JobExceptionContext context, CancellationToken cancellationToken)
    {
        WorkerMemory.CountFailure();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A service the worker's own host gets from ConfigureWorkerHost.</summary>
public sealed class Hasher
{
    private int _hashed;

    /// <summary>Gets how many texts this worker has hashed.</summary>
    public int Hashed => Volatile.Read(ref _hashed);

    public string Sha256(string text)
    {
        Interlocked.Increment(ref _hashed);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}

/// <summary>A job class: created in the worker from a scope of its container, with constructor injection.</summary>
public sealed class ChecksumJob(Hasher hasher) : IProcessJob<ChecksumRequest, ChecksumResult>
{
    public Task<ChecksumResult> ExecuteAsync(ChecksumRequest argument, CancellationToken cancellationToken) =>
        Task.FromResult(new ChecksumResult(hasher.Sha256(argument.Text), Environment.ProcessId));
}
