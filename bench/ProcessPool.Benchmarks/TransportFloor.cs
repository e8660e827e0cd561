using System.Diagnostics;
using System.IO.Pipes;

namespace ProcessPools.Benchmarks;

/// <summary>
/// The raw floor of a round trip: a 13-byte frame (the pool's header size) to a child process and back
/// over a pair of anonymous pipes, the pool's own transport, with nothing else on the path.
/// </summary>
internal static class TransportFloor
{
    private const string InVariable = "BENCH_ECHO_IN";
    private const string OutVariable = "BENCH_ECHO_OUT";
    private const string HostVariable = "BENCH_ECHO_HOST";
    private const int FrameSize = 13;

    public static bool IsEchoChild => Environment.GetEnvironmentVariable(InVariable) is not null;

    /// <summary>The child: echoes every frame until its input ends.</summary>
    public static int RunEcho()
    {
        // The process-start floor of a worker: the same process, having built and started an empty generic host (its
        // container and logging) first, as a worker does before its first job.
        using var host = Environment.GetEnvironmentVariable(HostVariable) is null
            ? null
            : Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { Args = [] }).Build();
        host?.StartAsync().GetAwaiter().GetResult();
        using var input = new AnonymousPipeClientStream(PipeDirection.In, Environment.GetEnvironmentVariable(InVariable)!);
        using var output = new AnonymousPipeClientStream(PipeDirection.Out, Environment.GetEnvironmentVariable(OutVariable)!);
        var frame = new byte[FrameSize];
        while (true)
        {
            try
            {
                input.ReadExactly(frame);
            }
            catch (EndOfStreamException)
            {
                return 0;
            }

            output.Write(frame);
            output.Flush();
        }
    }

    /// <summary>
    /// Measures <paramref name="count"/> sequential round trips after a warm-up as long as ours (at least 1 000
    /// round trips and <paramref name="warmUp"/>); returns each one's duration in microseconds.
    /// </summary>
    public static double[] Measure(int count, TimeSpan warmUp)
    {
        using var child = EchoChild.Start();
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < Math.Min(1000, count) || warming.Elapsed < warmUp; i++)
        {
            child.RoundTrip();
        }

        var timings = new double[count];
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            child.RoundTrip();
            timings[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        return timings;
    }

    /// <summary>The process-start floor: launch a bare .NET process on the same kind of channel and get its first echo.</summary>
    /// <param name="withHost">Whether the child builds and starts an empty generic host before it answers (a worker's floor).</param>
    public static TimeSpan StartToFirstEcho(bool withHost = false)
    {
        var clock = Stopwatch.StartNew();
        using var child = EchoChild.Start(withHost);
        child.RoundTrip();
        return clock.Elapsed;
    }

    /// <summary>The resident memory of a bare .NET process that only echoes: the floor for an idle worker.</summary>
    public static double EchoChildResidentMiB()
    {
        using var child = EchoChild.Start();
        child.RoundTrip();
        return Workloads.ResidentMiB(child.ProcessId);
    }

    private sealed class EchoChild : IDisposable
    {
        private readonly Process _process;
        private readonly AnonymousPipeServerStream _toChild;
        private readonly AnonymousPipeServerStream _fromChild;
        private readonly byte[] _frame = new byte[FrameSize];

        private EchoChild(Process process, AnonymousPipeServerStream toChild, AnonymousPipeServerStream fromChild)
        {
            _process = process;
            _toChild = toChild;
            _fromChild = fromChild;
        }

        public int ProcessId => _process.Id;

        public static EchoChild Start(bool withHost = false)
        {
            // A JIT or ReadyToRun build runs its dll with the dotnet host, as the pool runs its workers; a Native AOT build
            // (no assembly file) starts its own executable.
            var assembly = typeof(TransportFloor).Assembly.Location;
            var start = new ProcessStartInfo(string.IsNullOrEmpty(assembly) ? Environment.ProcessPath! : "dotnet") { UseShellExecute = false };
            if (!string.IsNullOrEmpty(assembly))
            {
                var deps = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?.Split(';')[0];
                start.ArgumentList.Add("exec");
                if (deps is not null && File.Exists(deps))
                {
                    start.ArgumentList.Add("--depsfile");
                    start.ArgumentList.Add(deps);
                    start.ArgumentList.Add("--runtimeconfig");
                    start.ArgumentList.Add(string.Concat(deps.AsSpan(0, deps.Length - ".deps.json".Length), ".runtimeconfig.json"));
                }

                start.ArgumentList.Add(assembly);
            }

            if (withHost)
            {
                start.Environment[HostVariable] = "1";
            }

            var toChild = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
            var fromChild = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
            start.Environment[InVariable] = toChild.GetClientHandleAsString();
            start.Environment[OutVariable] = fromChild.GetClientHandleAsString();
            var process = Process.Start(start)!;
            toChild.DisposeLocalCopyOfClientHandle();
            fromChild.DisposeLocalCopyOfClientHandle();
            return new EchoChild(process, toChild, fromChild);
        }

        public void RoundTrip()
        {
            _toChild.Write(_frame);
            _toChild.Flush();
            _fromChild.ReadExactly(_frame);
        }

        public void Dispose()
        {
            _toChild.Dispose();
            _process.WaitForExit();
            _fromChild.Dispose();
            _process.Dispose();
        }
    }
}
