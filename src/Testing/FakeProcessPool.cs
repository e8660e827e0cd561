using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ProcessPools.Transport;
using ProcessPools.Worker;

namespace ProcessPools.Testing;

/// <summary>
/// An <see cref="IProcessPool"/> for unit tests of code that has one injected, in the spirit of <c>FakeTimeProvider</c>
/// and <c>FakeLogger</c>. Jobs run in the test's own process, but through what a real pool does with them: the same
/// call-site checks (a capturing lambda, an unserializable argument or a result type that does not fit fail at the
/// call, with the same message), the same argument serialization, the same worker binding and result serialization
/// (<see cref="InProcessJobRunner"/>), and a failed job arrives as the same <see cref="RemoteJobException"/>. Every job
/// is recorded in <see cref="Calls"/>, and chosen jobs can be answered with a fault (<see cref="FailNext"/>,
/// <see cref="FailWhen"/>, <see cref="FakeFaults"/>) to test the caller's error handling.
/// </summary>
/// <remarks>
/// What it does not do is cross a process: a job's static state is the test's, nothing is isolated, no worker can
/// crash, and no worker initializer runs (call the initializer's code from the test when a job depends on it).
/// Simulate a lost worker with <see cref="FakeFaults.WorkerLost"/>; it is retried as a real pool retries it
/// (<see cref="ProcessPoolOptions.MaxRetries"/>, or the call's <see cref="JobOptions.MaxRetries"/>).
/// </remarks>
public sealed class FakeProcessPool : IProcessPool, IAsyncDisposable
{
    private readonly FakeProcessPoolOptions _options;
    private readonly JobPayloads _payloads;
    private readonly JobClasses _jobClasses;
    private readonly ServiceProvider _services;
    private readonly InProcessJobRunner _runner;
    private readonly ConcurrentQueue<FakeJobCall> _calls = new();
    private readonly ConcurrentQueue<Exception> _nextFaults = new();
    private Func<FakeJobCall, Exception?>? _faults;
    private int _inFlight;
    private long _completed;
    private volatile bool _closed;

    /// <summary>Creates a pool; <paramref name="configure"/> sets its options.</summary>
    /// <param name="configure">Sets the pool's name, settings, clock and worker services.</param>
    public FakeProcessPool(Action<FakeProcessPoolOptions>? configure = null)
    {
        _options = new FakeProcessPoolOptions();
        configure?.Invoke(_options);
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.Name, "options.Name");
        ArgumentNullException.ThrowIfNull(_options.Pool.Serializer, "options.Pool.Serializer");
        ArgumentNullException.ThrowIfNull(_options.TimeProvider, "options.TimeProvider");
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Pool.ChildConcurrency, 1, "options.Pool.ChildConcurrency");
        _payloads = new JobPayloads(_options.Pool.Serializer, _options.Pool.MaxMessageSize);
        _jobClasses = new JobClasses(_options.Name, _options.JobClasses);
        // What a worker's own host provides to job classes and handlers.
        _options.WorkerServices.TryAddSingleton(new WorkerContext(_options.Name, workerId: 0));
        _options.WorkerServices.AddLogging();
        _services = _options.WorkerServices.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        _runner = new InProcessJobRunner(_services, _options.Pool.Serializer, _options.Pool.MaxMessageSize);
    }

    /// <inheritdoc />
    public string Name => _options.Name;

    /// <summary>Gets every job the pool ran or was asked to run, in the order they started (an item of a map is one job).</summary>
    public IReadOnlyList<FakeJobCall> Calls => [.. _calls];

    /// <summary>Answers the next job with <paramref name="fault"/> instead of running it (after its call-site checks and serialization, as a worker that dies does).</summary>
    /// <param name="fault">What the caller gets: one of <see cref="FakeFaults"/>, or any exception.</param>
    public void FailNext(Exception fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _nextFaults.Enqueue(fault);
    }

    /// <summary>Asks <paramref name="fault"/> about each job before it runs: the exception to answer it with, or null to run it. Null stops asking.</summary>
    /// <param name="fault">Picks the jobs to fail, and how.</param>
    public void FailWhen(Func<FakeJobCall, Exception?>? fault) => Volatile.Write(ref _faults, fault);

    /// <inheritdoc />
    public Task<TResult> InvokeAsync<TResult>(JobTarget target, object?[] arguments, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(arguments);
        ObjectDisposedException.ThrowIf(_closed, this);

        // What a real pool checks before anything is sent, thrown at the call as it throws them.
        target = _jobClasses.Resolve(target);
        JobPayloads.ThrowIfResultDoesNotFit<TResult>(target);
        var payload = _payloads.WriteArguments(target, arguments);
        return RunAsync<TResult>(target, payload, [.. arguments], itemIndex: null, options, cancellationToken);
    }

    /// <inheritdoc />
    public PoolResult<TResult> InvokeMany<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(argumentSets);
        ObjectDisposedException.ThrowIf(_closed, this);
        target = _jobClasses.Resolve(target);
        JobPayloads.ThrowIfResultDoesNotFit<TResult>(target);
        _payloads.ThrowIfUnreadable(target);

        var window = _options.Pool.MapWindow > 0 ? _options.Pool.MapWindow : Math.Max(1024, 2 * _options.Pool.ChildConcurrency);
        var answers = new MapAnswers<TResult>(window, cancellationToken: cancellationToken);
        _ = ProduceAsync(target, argumentSets, options, answers);
        return answers.Result;
    }

    /// <inheritdoc />
    public ValueTask<ProcessPoolStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var inFlight = Volatile.Read(ref _inFlight);
        return ValueTask.FromResult(new ProcessPoolStatus
        {
            Name = Name,
            IsAcceptingJobs = !_closed,
            Processes = 1,
            ChildConcurrency = _options.Pool.ChildConcurrency,
            InFlight = inFlight,
            QueueLengths = [0],
            Workers =
            [
                new WorkerStatus
                {
                    WorkerId = 0,
                    ProcessId = Environment.ProcessId, // the test's own: jobs run in-process
                    State = _closed ? WorkerState.Exited : WorkerState.Ready,
                    Queue = 0,
                    InFlight = inFlight,
                    Completed = Interlocked.Read(ref _completed),
                },
            ],
        });
    }

    /// <summary>Closes the pool: later calls throw <see cref="ObjectDisposedException"/>, as a closed pool's do.</summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<TResult> RunAsync<TResult>(JobTarget target, byte[] payload, object?[] arguments, int? itemIndex, JobOptions? options, CancellationToken cancellationToken)
    {
        var retriesLeft = options?.MaxRetries ?? _options.Pool.MaxRetries;
        while (true)
        {
            var call = new FakeJobCall(target, arguments, itemIndex);
            _calls.Enqueue(call);
            Interlocked.Increment(ref _inFlight);
            try
            {
                var fault = _nextFaults.TryDequeue(out var next) ? next : Volatile.Read(ref _faults)?.Invoke(call);
                if (fault is not null)
                {
                    call.End(FakeJobOutcome.Faulted, null, fault);
                    if (fault is WorkerLostException && retriesLeft-- > 0)
                    {
                        continue; // a real pool sends the job to another worker
                    }

                    throw fault;
                }

                return await RunOnceAsync<TResult>(call, payload, options?.Timeout ?? _options.Pool.JobTimeout, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
                Interlocked.Increment(ref _completed);
            }
        }
    }

    private async Task<TResult> RunOnceAsync<TResult>(FakeJobCall call, byte[] payload, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using var timer = timeout is { } limit ? new CancellationTokenSource(limit, _options.TimeProvider) : null;
        using var linked = timer is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            var answer = await _runner.InvokeAsync(call.Target, payload, linked?.Token ?? cancellationToken).ConfigureAwait(false);
            var result = _payloads.ReadResult<TResult>(call.Target, new ReadOnlySequence<byte>(answer));
            call.End(FakeJobOutcome.Succeeded, result, null);
            return result;
        }
        catch (OperationCanceledException) when (timer?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            var timedOut = FakeFaults.Timeout(call.JobName, timeout!.Value);
            call.End(FakeJobOutcome.TimedOut, null, timedOut);
            throw timedOut;
        }
        catch (OperationCanceledException canceled)
        {
            call.End(FakeJobOutcome.Cancelled, null, canceled);
            throw;
        }
        catch (Exception exception)
        {
            call.End(FakeJobOutcome.Failed, null, exception);
            throw;
        }
    }

    /// <summary>A map's producer: takes window room, pulls an item, runs it (up to ChildConcurrency at once), answers it.</summary>
    private async Task ProduceAsync<TResult>(JobTarget target, IAsyncEnumerable<object?[]> argumentSets, JobOptions? options, MapAnswers<TResult> answers)
    {
        var token = answers.Cancellation;
        var index = 0;
        var running = new List<Task>();
        using var slots = new SemaphoreSlim(_options.Pool.ChildConcurrency);
        Exception? ended = null;
        try
        {
            var input = argumentSets.GetAsyncEnumerator(token);
            await using var disposeInput = input.ConfigureAwait(false);
            while (true)
            {
                await answers.TakeRoomAsync(token).ConfigureAwait(false);
                if (!await input.MoveNextAsync().ConfigureAwait(false))
                {
                    answers.ReturnRoom(1);
                    break;
                }

                answers.AddPulled(1);
                var item = index++;
                byte[] payload;
                try
                {
                    payload = _payloads.WriteArguments(target, input.Current);
                }
                catch (Exception exception) when (exception is ArgumentException or NotSupportedException or InvalidOperationException)
                {
                    answers.Fail(item, exception); // as a real map answers an item it could not send
                    continue;
                }

                await slots.WaitAsync(token).ConfigureAwait(false);
                running.Add(RunItemAsync(target, payload, input.Current, item, options, answers, slots));
            }
        }
        catch (Exception exception)
        {
            ended = exception is OperationCanceledException && token.IsCancellationRequested ? new OperationCanceledException(token) : exception;
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        answers.Complete(index, ended);
    }

    private async Task RunItemAsync<TResult>(JobTarget target, byte[] payload, object?[] arguments, int item, JobOptions? options, MapAnswers<TResult> answers, SemaphoreSlim slots)
    {
        try
        {
            answers.Answer(item, await RunAsync<TResult>(target, payload, [.. arguments], item, options, answers.Cancellation).ConfigureAwait(false));
        }
        catch (Exception exception)
        {
            answers.Fail(item, exception);
        }
        finally
        {
            slots.Release();
        }
    }
}
