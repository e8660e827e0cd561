using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ProcessPools.Channels;
using ProcessPools.Generated;
using ProcessPools.Protocol;
using ProcessPools.Worker.Logging;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// The child's side of one channel: the handshake, the host, and the frames the parent sends, handed to
/// the <see cref="JobRunner"/> once the host is built. Ends when the parent shuts the worker down, or goes away.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One session per process; its token source has no timer, and handlers may still observe it as the process ends.")]
internal sealed class WorkerSession : IFrameHandler
{
    private readonly Stream _input;
    private readonly FrameWriter _writer;
    private int _challenged;
    private readonly TaskCompletionSource<WorkerSetup> _setup = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _parentGone = new();
    private readonly ParentWatchdog _watchdog;
    private readonly TimeProvider _time;
    private volatile JobRunner? _runner;

    /// <summary>How long the worker's host may take to stop after the last job, before the process exits anyway.</summary>
    private static readonly TimeSpan HostStopTimeout = TimeSpan.FromSeconds(5);

    private readonly int _maxMessageSize;

    private readonly SegmentChannel? _sharedMemory;

    /// <summary>A session over the channel's two pipes; <paramref name="sharedMemory"/> is the channel's plan, or null when every frame goes through the pipe.</summary>
    public WorkerSession(Stream input, Stream output, int parentProcessId, int maxMessageSize, TimeProvider timeProvider, SharedMemoryPlan? sharedMemory = null)
    {
        _maxMessageSize = maxMessageSize;
        _input = input;
        _sharedMemory = sharedMemory is null ? null : new SegmentChannel(sharedMemory, SharedMemoryPlan.Worker);
        _writer = new FrameWriter(output, _sharedMemory?.Own);
        OwnChannel.Writing(_writer);
        _time = timeProvider;
        _watchdog = new ParentWatchdog(timeProvider, parentProcessId, parentProcessId > 0 ? ParentLiveness.For(parentProcessId) : static () => true);
    }

    /// <summary>Whether the session ended because the parent went away (the caller exits at once then, whatever threads jobs left).</summary>
    public bool ParentGone => _parentGone.IsCancellationRequested;

    /// <summary>Runs the session; returns the process exit code (<see cref="WorkerExitCode"/>).</summary>
    public async Task<int> RunAsync(Func<WorkerSetup, ILoggerProvider, Task<IHost>> buildHost)
    {
        // The worker's own segments are left to the parent, which deletes them once this process has exited.
        var reading = FrameReader.Start(_input, _maxMessageSize, _sharedMemory?.HandlerFor(this, _writer, _maxMessageSize) ?? this, "ProcessPool channel reader");
        if (await Task.WhenAny(_setup.Task, reading).ConfigureAwait(false) != _setup.Task)
        {
            return await EndedAsync(reading).ConfigureAwait(false);
        }

        var setup = await _setup.Task.ConfigureAwait(false);
        IHost host;
        JobRunner runner;
        try
        {
            CheckRegistry(setup);
            var serializer = CreateSerializer(setup.SerializerType);

            // Up to ChildConcurrency jobs run at once, and CPU-bound ones hold a thread each: without enough
            // threads from the start, the thread pool adds them slowly and jobs wait (measured: 4 CPU-bound
            // jobs on 2 workers ran at 84 % of the ideal speed before this, the in-process baseline at 98 %).
            ThreadPool.GetMinThreads(out var workerThreads, out var completionThreads);
            ThreadPool.SetMinThreads(Math.Max(workerThreads, setup.ChildConcurrency + 2), completionThreads);
            host = await buildHost(setup, new ChannelLoggerProvider(_writer)).ConfigureAwait(false);
            var handlers = new JobExceptionHandlers([.. host.Services.GetServices<IJobExceptionHandler>()], _parentGone.Token);
            runner = new JobRunner(_writer, serializer, host.Services, handlers, setup);
        }
        catch (Exception exception)
        {
            _writer.TryWrite(new OutgoingFrame(FrameType.SetupFailed, 0, FaultPayload.Encode(exception)));
            _writer.Complete();
            await _writer.Completion.ConfigureAwait(false);
            return WorkerExitCode.SetupFailed;
        }

        _runner = runner;
        _writer.TryWrite(new OutgoingFrame(FrameType.Ready, 0, ReadOnlyMemory<byte>.Empty));
        _watchdog.Start(setup.HeartbeatTimeout);
        using var watchdog = _watchdog;
        var ended = await Task.WhenAny(reading, runner.Drained, _watchdog.Abandoned).ConfigureAwait(false);
        if (ended != runner.Drained)
        {
            // The parent is gone (or sent garbage, or went silent): nobody will read results, so stop everything now.
            await _parentGone.CancelAsync().ConfigureAwait(false);
            if (ended == _watchdog.Abandoned)
            {
                await Console.Error.WriteLineAsync($"ProcessPool worker {Environment.ProcessId}: {await _watchdog.Abandoned.ConfigureAwait(false)}; exiting.").ConfigureAwait(false);
                return WorkerExitCode.ParentGone;
            }

            await runner.CancelAllAsync().ConfigureAwait(false);
            return await EndedAsync(reading).ConfigureAwait(false);
        }

        _writer.Complete();
        await _writer.Completion.ConfigureAwait(false);
        using var stopping = new CancellationTokenSource(HostStopTimeout, _time);
        await host.StopAsync(stopping.Token).ConfigureAwait(false);
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }

        return WorkerExitCode.Normal;
    }

    public void OnFrame(FrameType type, long jobId, ReadOnlySequence<byte> payload)
    {
        _watchdog.Heard();
        switch (type)
        {
            case FrameType.Challenge:
                if (Interlocked.Exchange(ref _challenged, 1) != 0)
                {
                    throw new InvalidDataException("The worker received a second challenge.");
                }

                // The hello echoes the parent's token: proof that this process reads the pipe the parent writes.
                var token = System.Text.Encoding.ASCII.GetString(payload.ToArray());
                _writer.TryWrite(new OutgoingFrame(FrameType.Hello, 0, HelloPayload.Encode(new WorkerHello(token, Environment.ProcessId, WorkerEnvironment.ProtocolVersion))));
                break;
            case FrameType.Ping:
                _writer.TryWrite(new OutgoingFrame(FrameType.Pong, 0, ReadOnlyMemory<byte>.Empty));
                break;
            case FrameType.Setup:
                if (Volatile.Read(ref _challenged) == 0 || !_setup.TrySetResult(SetupPayload.Decode(payload)))
                {
                    throw new InvalidDataException("The worker received a setup frame out of turn.");
                }

                break;
            case FrameType.TraceContext:
                Runner(type).SetTraceContext(jobId, payload);
                break;
            case FrameType.Define:
                Runner(type).Define((int)jobId, payload);
                break;
            case FrameType.Invoke:
                Runner(type).Invoke(jobId, payload);
                break;
            case FrameType.InvokeMany:
                Runner(type).InvokeMany(jobId, payload);
                break;
            case FrameType.Cancel:
                Runner(type).Cancel(jobId);
                break;
            case FrameType.Shutdown:
                Runner(type).BeginDrain();
                break;
            default:
                throw new InvalidDataException($"The worker received a frame of unknown type {(byte)type}.");
        }
    }

    /// <summary>The runner, for a frame that only fits once the worker is ready; before that, the frame breaks the channel.</summary>
    private JobRunner Runner(FrameType type) =>
        _runner ?? throw new InvalidDataException($"The worker received a {type} frame before it was ready.");

    private static async Task<int> EndedAsync(Task reading)
    {
        try
        {
            await reading.ConfigureAwait(false);
            return WorkerExitCode.Normal;
        }
        catch (Exception exception)
        {
            await Console.Error.WriteLineAsync($"ProcessPool worker {Environment.ProcessId}: channel failed: {exception.Message}").ConfigureAwait(false);
            return WorkerExitCode.ChannelFailed;
        }
    }

    /// <summary>
    /// Refuses a worker whose compile-time registry differs from the parent's: a different build would run other
    /// code under the same job ids. A worker started from the worker assembly loads the application's assemblies
    /// that carry generated code first, so their registrations run.
    /// </summary>
    /// <exception cref="InvalidOperationException">The registries differ.</exception>
    private static void CheckRegistry(WorkerSetup setup)
    {
        if (GeneratedRegistry.Fingerprint == setup.RegistryFingerprint)
        {
            return;
        }

        foreach (var reference in setup.RegistryAssemblies)
        {
            LoadRegistrations(reference);
        }

        if (GeneratedRegistry.Fingerprint != setup.RegistryFingerprint)
        {
            throw new InvalidOperationException(
                $"The worker's compile-time job registry ({Describe(GeneratedRegistry.Fingerprint, GeneratedRegistry.Count)}) differs from the parent's ({Describe(setup.RegistryFingerprint, null)}): " +
                "the worker runs a different build of the application than the parent. Build and deploy the application and its workers together.");
        }

        static string Describe(string fingerprint, int? count) =>
            fingerprint.Length == 0 ? "empty" : count is { } n ? $"{n} entries, fingerprint {fingerprint}" : $"fingerprint {fingerprint}";
    }

    // A Native AOT worker is the application itself, whose registrations ran at start-up: its fingerprint matched above.
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only a worker started from the worker assembly (never trimmed, never Native AOT) has assemblies left to load.")]
    private static void LoadRegistrations(TypeReference reference)
    {
        if (GeneratedRegistry.Assemblies.Any(a => a.FullName == reference.TypeName))
        {
            return;
        }

        var assembly = ApplicationAssemblies.Load(reference.TypeName, reference.AssemblyPath);
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
    }

    /// <summary>The serializer the parent uses: through the generated registry, or by its name where reflection is available.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2057", Justification = "A serializer outside the generated registry comes from a build without the generator, which the parent's start-up check allows only where dynamic code is supported.")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "A serializer outside the generated registry comes from a build without the generator, which the parent's start-up check allows only where dynamic code is supported.")]
    private static IJobSerializer CreateSerializer(string typeName)
    {
        if (GeneratedRegistry.TryCreateSerializer(typeName) is { } generated)
        {
            return generated;
        }

        var type = Type.GetType(typeName, throwOnError: true)!;
        return (IJobSerializer)(Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"Could not create the serializer '{typeName}'."));
    }
}
