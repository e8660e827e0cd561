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
    private const string SpinVariable = "BENCH_ECHO_SPIN";
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
        var reused = Array.Empty<byte>();
        var spinning = Environment.GetEnvironmentVariable(SpinVariable) is not null ? Spinning.Reader(input.SafePipeHandle) : null;
        while (true)
        {
            try
            {
                if (spinning is not null)
                {
                    spinning.ReadExactly(frame);
                }
                else
                {
                    input.ReadExactly(frame);
                }
            }
            catch (EndOfStreamException)
            {
                return 0;
            }

            // A bulk frame: [kind: 1 to receive, 2 to send][length: int32][fresh: 1 for a new buffer per message].
            if (frame[0] is BulkIn or BulkOut)
            {
                var length = BitConverter.ToInt32(frame, 1);
                var buffer = frame[5] == 1 ? new byte[length] : reused.Length >= length ? reused : reused = new byte[length];
                if (frame[0] == BulkIn)
                {
                    input.ReadExactly(buffer, 0, length);
                }
                else
                {
                    output.Write(buffer, 0, length);
                }
            }

            output.Write(frame);
            output.Flush();
        }
    }

    private const byte BulkIn = 1;
    private const byte BulkOut = 2;

    /// <summary>
    /// What the pool grows a worker's pipes to for large frames on Linux (1 MiB, ProcessPool's PipeCapacity); 0 elsewhere,
    /// where pipes keep the size they were made with.
    /// </summary>
    public static int GrownPipeCapacity => OperatingSystem.IsLinux() ? 1 << 20 : 0;

    /// <summary>
    /// The pipe's own rate for <paramref name="size"/> bytes each way, in MiB/s (median of the timed transfers): the
    /// same anonymous pipes, a bare .NET child, the bytes read into a buffer reused for every message or a new one each
    /// time (<paramref name="fresh"/>: what a message a program keeps costs, page faults included), the pipes at the
    /// OS's default capacity or at <paramref name="capacity"/> bytes.
    /// </summary>
    public static (double ToChild, double FromChild) MeasureBulk(int size, bool fresh, int count, int capacity = 0)
    {
        using var child = EchoChild.Start(capacity: capacity);
        var toChild = new List<double>();
        var fromChild = new List<double>();
        for (var i = 0; i < count + 1; i++)
        {
            var (sent, received) = (child.Bulk(BulkIn, size, fresh), child.Bulk(BulkOut, size, fresh));
            if (i > 0)
            {
                toChild.Add(size / 1048576.0 / sent.TotalSeconds);
                fromChild.Add(size / 1048576.0 / received.TotalSeconds);
            }
        }

        return (toChild.Order().ElementAt(toChild.Count / 2), fromChild.Order().ElementAt(fromChild.Count / 2));
    }

    /// <summary>Whether this OS has the spinning floor (<see cref="Measure"/> with spin): Linux, where the bench runs.</summary>
    public static bool CanSpin => OperatingSystem.IsLinux();

    /// <summary>
    /// The 13-byte ping-pong's round trips (us). With <paramref name="spin"/>, both sides poll their read end without
    /// sleeping (non-blocking reads in a loop): the pipe's own cost, without the wake-up of a sleeping reader, which on an
    /// idle virtual machine includes bringing a halted CPU back.
    /// </summary>
    public static double[] Measure(int count, TimeSpan warmUp, bool spin = false)
    {
        using var child = EchoChild.Start(spin: spin);
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

    /// <summary>A bare child for the 13-byte ping-pong, timed by the caller (<see cref="EchoChild.RoundTrip"/>), blocking reads on both sides.</summary>
    public static EchoChild StartPingPong() => EchoChild.Start();

    internal sealed class EchoChild : IDisposable
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

        public static EchoChild Start(bool withHost = false, bool spin = false, int capacity = 0)
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

            if (spin)
            {
                start.Environment[SpinVariable] = "1";
            }

            // A capacity is set at creation (F_SETPIPE_SZ on Linux), as the pool grows a worker's pipes for large frames.
            var toChild = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable, capacity);
            var fromChild = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable, capacity);
            start.Environment[InVariable] = toChild.GetClientHandleAsString();
            start.Environment[OutVariable] = fromChild.GetClientHandleAsString();
            var process = Process.Start(start)!;
            toChild.DisposeLocalCopyOfClientHandle();
            fromChild.DisposeLocalCopyOfClientHandle();
            return new EchoChild(process, toChild, fromChild) { _spinning = spin ? Spinning.Reader(fromChild.SafePipeHandle) : null };
        }

        private byte[] _bulk = [];
        private Spinning? _spinning;

        public TimeSpan Bulk(byte kind, int size, bool fresh)
        {
            var frame = new byte[FrameSize];
            frame[0] = kind;
            BitConverter.TryWriteBytes(frame.AsSpan(1), size);
            frame[5] = fresh ? (byte)1 : (byte)0;
            var buffer = fresh ? new byte[size] : _bulk.Length >= size ? _bulk : _bulk = new byte[size];
            var started = Stopwatch.GetTimestamp();
            _toChild.Write(frame);
            if (kind == BulkIn)
            {
                _toChild.Write(buffer, 0, size);
            }
            else
            {
                _fromChild.ReadExactly(buffer, 0, size);
            }

            _fromChild.ReadExactly(frame);
            return Stopwatch.GetElapsedTime(started);
        }

        public void RoundTrip()
        {
            _toChild.Write(_frame);
            _toChild.Flush();
            if (_spinning is not null)
            {
                _spinning.ReadExactly(_frame);
            }
            else
            {
                _fromChild.ReadExactly(_frame);
            }
        }

        public void Dispose()
        {
            _toChild.Dispose();
            _process.WaitForExit();
            _fromChild.Dispose();
            _process.Dispose();
        }
    }

    /// <summary>Reads a pipe without sleeping: its descriptor non-blocking, read() called again at once while it has nothing (Linux).</summary>
    private sealed partial class Spinning(int descriptor)
    {
        private const int GetFlags = 3;
        private const int SetFlags = 4;
        private const int NonBlocking = 0x800; // O_NONBLOCK on Linux
        private const int TryAgain = 11; // EAGAIN on Linux

        public static Spinning Reader(Microsoft.Win32.SafeHandles.SafePipeHandle handle)
        {
            var descriptor = (int)handle.DangerousGetHandle();
            var flags = Fcntl(descriptor, GetFlags, 0);
            if (flags < 0 || Fcntl(descriptor, SetFlags, flags | NonBlocking) < 0)
            {
                throw new IOException($"fcntl on descriptor {descriptor} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
            }

            return new Spinning(descriptor);
        }

        public void ReadExactly(byte[] buffer)
        {
            var got = 0;
            while (got < buffer.Length)
            {
                var read = Read(descriptor, ref buffer[got], buffer.Length - got);
                if (read > 0)
                {
                    got += (int)read;
                }
                else if (read == 0)
                {
                    throw new EndOfStreamException();
                }
                else if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != TryAgain)
                {
                    throw new IOException($"read failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
                }
            }
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "read", SetLastError = true)]
        [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
        private static extern nint Read(int descriptor, ref byte buffer, nint count);

        // The flags travel in a register on Linux x64 and arm64 alike (the variadic-argument trap is macOS arm64's).
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
        private static extern int Fcntl(int descriptor, int command, int argument);
    }
}
