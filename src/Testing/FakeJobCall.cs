namespace ProcessPools.Testing;

/// <summary>How a recorded job ended.</summary>
public enum FakeJobOutcome
{
    /// <summary>Still running.</summary>
    Running,

    /// <summary>Answered with a result.</summary>
    Succeeded,

    /// <summary>The job threw (the caller got a <see cref="RemoteJobException"/>).</summary>
    Failed,

    /// <summary>Cancelled by its caller.</summary>
    Cancelled,

    /// <summary>Did not finish within its timeout (the caller got a <see cref="TimeoutException"/>).</summary>
    TimedOut,

    /// <summary>Answered with a fault the test injected (<see cref="FakeProcessPool.FailNext"/>, <see cref="FakeProcessPool.FailWhen"/>).</summary>
    Faulted,
}

/// <summary>One job a <see cref="FakeProcessPool"/> ran, or was asked to: what the worker received and how it ended.</summary>
public sealed class FakeJobCall
{
    private volatile object? _state = FakeJobOutcome.Running;

    internal FakeJobCall(JobTarget target, IReadOnlyList<object?> arguments, int? itemIndex)
    {
        Target = target;
        Arguments = arguments;
        ItemIndex = itemIndex;
    }

    /// <summary>Gets the job's name (<c>Type.Method</c>, or the request's job class).</summary>
    public string JobName => Target.Name;

    /// <summary>Gets the job as the pool runs it (a request resolved to its job class).</summary>
    public JobTarget Target { get; }

    /// <summary>
    /// Gets the arguments as the caller passed them. They were also serialized and read back as the job's parameter
    /// types, as a real pool does: an argument that cannot be written failed the call, and the job ran on what was read.
    /// </summary>
    public IReadOnlyList<object?> Arguments { get; }

    /// <summary>Gets the item's index in its map's input; null for a single job.</summary>
    public int? ItemIndex { get; }

    /// <summary>Gets how the job ended.</summary>
    public FakeJobOutcome Outcome => _state is Ending ending ? ending.Outcome : FakeJobOutcome.Running;

    /// <summary>Gets the result the caller received, if the job succeeded (deserialized from the worker's answer).</summary>
    public object? Result => (_state as Ending)?.Result;

    /// <summary>Gets the exception the caller received, if the job did not succeed.</summary>
    public Exception? Exception => (_state as Ending)?.Exception;

    /// <inheritdoc />
    public override string ToString() => $"{JobName}({string.Join(", ", Arguments)}) {Outcome}";

    internal void End(FakeJobOutcome outcome, object? result, Exception? exception) => _state = new Ending(outcome, result, exception);

    private sealed record Ending(FakeJobOutcome Outcome, object? Result, Exception? Exception);
}
