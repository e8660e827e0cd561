using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ProcessPools.Channels;

/// <summary>Where a channel's shared-memory segments live.</summary>
internal enum SegmentStore
{
    /// <summary>Files in a directory, mapped by both processes: <c>/dev/shm</c> (memory) on Linux, the user's temporary directory elsewhere.</summary>
    Directory,

    /// <summary>Named, page-file-backed sections (Windows): nothing on disk, gone when the last handle closes.</summary>
    Named,
}

/// <summary>
/// How one channel moves large frames through shared memory: frames of <see cref="Threshold"/> bytes or more are
/// written into a segment that the sender owns and reuses, and the frame on the pipe only names it
/// (<see cref="SegmentFrames"/>). Each side names its own segments <c>{Prefix}-p{n}</c> (parent) or
/// <c>{Prefix}-w{n}</c> (worker); the prefix starts with the parent's pid namespace and pid
/// (<see cref="ProcessPrefix"/>), so the files of a parent that died without cleaning up can be found and removed by
/// the next pool that starts in the same namespace (<see cref="SweepOrphans"/>), and never those of a live process of
/// another container sharing the directory (<c>--ipc=host</c>), whose pids mean nothing here.
/// </summary>
internal sealed record SharedMemoryPlan(int Threshold, SegmentStore Store, string Location, string Prefix)
{
    /// <summary>Every segment's name starts with this, then the parent's pid and a dash.</summary>
    public const string NamePrefix = "processpool-";

    /// <summary>The parent's side letter in segment names.</summary>
    public const char Parent = 'p';

    /// <summary>The worker's side letter in segment names.</summary>
    public const char Worker = 'w';

    private static readonly string ProcessToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>This process's pid namespace: the inode of <c>/proc/self/ns/pid</c> on Linux, "0" elsewhere.</summary>
    public static readonly string PidNamespace = ReadPidNamespace();

    /// <summary>How the names of this process's segments start: <c>processpool-{pid namespace}-{pid}-</c>.</summary>
    public static readonly string ProcessPrefix = string.Create(CultureInfo.InvariantCulture, $"{NamePrefix}{PidNamespace}-{Environment.ProcessId}-");
    private static long s_channels;
    private static int s_swept;
    private static readonly Lazy<(SegmentStore Store, string Location)> s_where = new(() => Choose(HostPlatform.Current, IsWritableDirectory, Path.GetTempPath()));

    /// <summary>The name of segment <paramref name="number"/> of <paramref name="side"/>: a path, or a section name.</summary>
    public string NameOf(char side, int number) => Store == SegmentStore.Named
        ? string.Create(CultureInfo.InvariantCulture, $"Local\\{Prefix}-{side}{number}")
        : Path.Combine(Location, string.Create(CultureInfo.InvariantCulture, $"{Prefix}-{side}{number}"));

    /// <summary>The plan as one environment variable's value (the worker reads it before any frame).</summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Threshold}|{Store}|{Prefix}|{Location}");

    /// <summary>Reads <see cref="Format"/>'s text; null for none or text that is not a plan.</summary>
    public static SharedMemoryPlan? Parse(string? text)
    {
        var parts = text?.Split('|', 4);
        return parts is [var threshold, var store, var prefix, var location]
            && int.TryParse(threshold, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0
            && Enum.TryParse<SegmentStore>(store, out var kind) && Enum.IsDefined(kind)
            && prefix.StartsWith(NamePrefix, StringComparison.Ordinal)
            && (kind == SegmentStore.Named || location.Length > 0)
            ? new SharedMemoryPlan(bytes, kind, location, prefix)
            : null;
    }

    /// <summary>
    /// Where segments go on an OS: a decision unit-tested for every OS from any one. Linux maps files of
    /// <c>/dev/shm</c>, a memory file system, where it is there and writable (a container may lack it);
    /// Windows uses named sections; macOS and other Unixes have no memory file system a process can list, so
    /// files in the user's temporary directory (their pages stay in the page cache while mapped).
    /// </summary>
    public static (SegmentStore Store, string Location) Choose(HostOs os, Func<string, bool> isWritableDirectory, string temporaryDirectory) => os switch
    {
        HostOs.Windows => (SegmentStore.Named, string.Empty),
        HostOs.Linux when isWritableDirectory("/dev/shm") => (SegmentStore.Directory, "/dev/shm"),
        _ => (SegmentStore.Directory, temporaryDirectory),
    };

    /// <summary>A plan for a new channel of this process, on this OS; the first one also removes orphaned segments.</summary>
    public static SharedMemoryPlan ForNewChannel(int threshold)
    {
        var (store, location) = s_where.Value;
        if (store == SegmentStore.Directory && Interlocked.Exchange(ref s_swept, 1) == 0)
        {
            SweepOrphans(location, PidNamespace, IsProcessAlive);
        }

        var channel = Interlocked.Increment(ref s_channels);
        return new SharedMemoryPlan(threshold, store, location, string.Create(CultureInfo.InvariantCulture, $"{ProcessPrefix}{ProcessToken}-{channel}"));
    }

    /// <summary>
    /// Deletes every segment file of this channel, both sides': the worker has exited (its segments, lent or free,
    /// are nobody's now) and the parent's are disposed. Named sections need nothing: they end with their handles.
    /// </summary>
    /// <returns>How many files were deleted.</returns>
    public int DeleteChannelFiles()
    {
        if (Store != SegmentStore.Directory)
        {
            return 0;
        }

        var deleted = 0;
        foreach (var side in (ReadOnlySpan<char>)[Parent, Worker])
        {
            deleted += DeleteMatching(Location, string.Create(CultureInfo.InvariantCulture, $"{Prefix}-{side}*"));
        }

        return deleted;
    }

    /// <summary>
    /// Deletes the segment files in <paramref name="location"/> of pid namespace <paramref name="pidNamespace"/> whose
    /// parent (the pid in the name) is no longer running: a parent killed before it could clean up leaves them behind,
    /// each as large as its largest payload. Files of other namespaces are left alone: their pids mean nothing here.
    /// </summary>
    /// <returns>How many files were deleted.</returns>
    public static int SweepOrphans(string location, string pidNamespace, Func<int, bool> isProcessAlive)
    {
        var deleted = 0;
        var ours = $"{NamePrefix}{pidNamespace}-";
        IEnumerable<string> files;
        try
        {
            files = System.IO.Directory.EnumerateFiles(location, ours + "*");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        foreach (var file in files)
        {
            var name = Path.GetFileName(file.AsSpan());
            var rest = name[ours.Length..];
            var dash = rest.IndexOf('-');
            if (dash > 0 && int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !isProcessAlive(pid) && TryDelete(file))
            {
                deleted++;
            }
        }

        return deleted;
    }

    /// <summary>The pid namespace's inode from <c>/proc/self/ns/pid</c> (<c>pid:[4026531836]</c>); "0" where there is none.</summary>
    private static string ReadPidNamespace()
    {
        try
        {
            var target = OperatingSystem.IsLinux() ? new FileInfo("/proc/self/ns/pid").LinkTarget : null;
            var digits = target is null ? string.Empty : new string([.. target.Where(char.IsAsciiDigit)]);
            return digits.Length > 0 ? digits : "0";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return "0";
        }
    }

    private static int DeleteMatching(string location, string pattern)
    {
        var deleted = 0;
        try
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(location, pattern))
            {
                deleted += TryDelete(file) ? 1 : 0;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The directory went away: nothing of ours is left in it.
        }

        return deleted;
    }

    /// <summary>Deletes a segment file; false when it cannot be (gone already, or another user's).</summary>
    public static bool TryDelete(string file)
    {
        try
        {
            File.Delete(file);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether this process can create files in <paramref name="path"/>: tried once, with a file deleted on close.</summary>
    private static bool IsWritableDirectory(string path)
    {
        try
        {
            using var probe = new FileStream(
                Path.Combine(path, string.Create(CultureInfo.InvariantCulture, $"{ProcessPrefix}{ProcessToken}-probe")),
                FileMode.CreateNew,
                FileAccess.ReadWrite,
                FileShare.None,
                1,
                FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether a process runs with this pid (Unix: <c>kill(pid, 0)</c>, which fails with ESRCH only when none does).</summary>
    private static bool IsProcessAlive(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }

        if (OperatingSystem.IsWindows())
        {
            return true; // no segment files there
        }

        return UnixProcess.Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != NoSuchProcess;
    }

    private const int NoSuchProcess = 3; // ESRCH, the same on Linux and macOS
}
