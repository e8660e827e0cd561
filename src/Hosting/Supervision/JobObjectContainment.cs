using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace ProcessPools.Supervision;

/// <summary>
/// Windows: a Job Object per worker, set to kill its processes when its last handle closes. The parent holds that
/// handle: closing it after the worker's death ends what the worker's jobs started, and the OS closes it when the
/// parent itself dies, crash or not. Processes a worker starts join its job. Nested jobs (a host that already runs
/// the application in a job, as some CI agents and IIS do) need Windows 8 or later.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed partial class JobObjectContainment : WorkerContainment
{
    private const int ExtendedLimitInformation = 9;      // JobObjectExtendedLimitInformation
    private const uint KillOnJobClose = 0x2000;          // JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    private nint _job;

    private JobObjectContainment(nint job) => _job = job;

    public static JobObjectContainment Create(Process worker)
    {
        var job = CreateJobObject(0, 0);
        if (job == 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "CreateJobObject failed");
        }

        var limits = new ExtendedLimits { BasicLimits = new BasicLimits { LimitFlags = KillOnJobClose } };
        if (!SetInformationJobObject(job, ExtendedLimitInformation, ref limits, (uint)Marshal.SizeOf<ExtendedLimits>())
            || !AssignProcessToJobObject(job, worker.Handle))
        {
            var error = Marshal.GetLastPInvokeError();
            _ = CloseHandle(job);
            throw new Win32Exception(error, "A worker could not be put in a Job Object of its own");
        }

        return new JobObjectContainment(job);
    }

    public override void EndRest() => Dispose();

    public override void Dispose()
    {
        var job = Interlocked.Exchange(ref _job, 0);
        if (job != 0)
        {
            _ = CloseHandle(job); // kill-on-close: the worker's remaining processes end here
        }

        base.Dispose();
    }

    [LibraryImport("kernel32.dll", EntryPoint = "CreateJobObjectW", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial nint CreateJobObject(nint attributes, nint name);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetInformationJobObject(nint job, int informationClass, ref ExtendedLimits information, uint length);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool AssignProcessToJobObject(nint job, nint process);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CloseHandle(nint handle);

    /// <summary>JOBOBJECT_BASIC_LIMIT_INFORMATION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BasicLimits
    {
        public long PerProcessUserTimeLimit;
        public long PerJobUserTimeLimit;
        public uint LimitFlags;
        public nuint MinimumWorkingSetSize;
        public nuint MaximumWorkingSetSize;
        public uint ActiveProcessLimit;
        public nuint Affinity;
        public uint PriorityClass;
        public uint SchedulingClass;
    }

    /// <summary>JOBOBJECT_EXTENDED_LIMIT_INFORMATION (with IO_COUNTERS inline).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ExtendedLimits
    {
        public BasicLimits BasicLimits;
        public ulong ReadOperationCount;
        public ulong WriteOperationCount;
        public ulong OtherOperationCount;
        public ulong ReadTransferCount;
        public ulong WriteTransferCount;
        public ulong OtherTransferCount;
        public nuint ProcessMemoryLimit;
        public nuint JobMemoryLimit;
        public nuint PeakProcessMemoryUsed;
        public nuint PeakJobMemoryUsed;
    }
}
