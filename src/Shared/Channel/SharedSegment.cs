using System.Buffers;
using System.IO.MemoryMappedFiles;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace ProcessPools.Channels;

/// <summary>
/// One shared-memory segment, mapped into this process: written by the side that created it, read by the other.
/// Reads and writes go through <see cref="Acquire"/>, which holds the mapping's handle: disposing the segment while
/// another thread copies (a worker dying mid-write) unmaps it only when that copy is done, never under it.
/// </summary>
internal sealed unsafe class SharedSegment : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly string? _path;

    private SharedSegment(int number, long capacity, MemoryMappedFile file, MemoryMappedViewAccessor view, string? path)
    {
        Number = number;
        Capacity = capacity;
        _file = file;
        _view = view;
        _path = path;
    }

    /// <summary>The segment's number among its owner's.</summary>
    public int Number { get; }

    /// <summary>How many bytes it holds.</summary>
    public long Capacity { get; }

    /// <summary>Creates a segment of <paramref name="capacity"/> bytes, readable and writable by this user only.</summary>
    /// <exception cref="IOException">It could not be created (no room, or a name taken).</exception>
    public static SharedSegment Create(SharedMemoryPlan plan, char side, int number, long capacity)
    {
        var name = plan.NameOf(side, number);
        if (plan.Store == SegmentStore.Named)
        {
            return OperatingSystem.IsWindows() ? CreateNamed(name, number, capacity) : throw NamedOnlyOnWindows();
        }

        // Its room is reserved now (fallocate): a memory file system without room fails here, with an IOException that
        // sends the frame through the pipe, instead of killing this process with SIGBUS when a copy touches a page
        // the file system cannot give (a container's /dev/shm is often 64 MiB).
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
            PreallocationSize = capacity,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(name, options);
        try
        {
            var file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            return new SharedSegment(number, capacity, file, file.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite), name);
        }
        catch
        {
            stream.Dispose();
            SharedMemoryPlan.TryDelete(name);
            throw;
        }
    }

    /// <summary>Opens the other side's segment to read <paramref name="length"/> bytes of it.</summary>
    /// <exception cref="InvalidDataException">There is no such segment, or it is smaller than announced.</exception>
    public static SharedSegment Open(SharedMemoryPlan plan, char side, int number, int length)
    {
        var name = plan.NameOf(side, number);
        try
        {
            MemoryMappedFile file;
            if (plan.Store == SegmentStore.Named)
            {
                file = OperatingSystem.IsWindows() ? OpenNamed(name) : throw NamedOnlyOnWindows();
            }
            else
            {
                var stream = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                if (stream.Length < length)
                {
                    stream.Dispose();
                    throw new InvalidDataException($"Shared-memory segment {name} holds {stream.Length} bytes, fewer than the {length} its frame announced.");
                }

                file = MemoryMappedFile.CreateFromFile(stream, mapName: null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            }

            try
            {
                return new SharedSegment(number, length, file, file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), path: null);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            throw new InvalidDataException($"Shared-memory segment {name}, named by a frame, could not be opened: {exception.Message}", exception);
        }
    }

    /// <summary>Holds the mapping for a copy: the returned lease's span is valid until the lease is disposed.</summary>
    public Lease Acquire() => new(_view.SafeMemoryMappedViewHandle, _view.PointerOffset, Capacity);

    /// <summary>Unmaps the segment (once no lease holds it) and deletes its file when this side created it.</summary>
    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
        if (_path is not null)
        {
            SharedMemoryPlan.TryDelete(_path); // failing that, the channel's sweep deletes it when the worker is gone
        }
    }

    private static PlatformNotSupportedException NamedOnlyOnWindows() => new("Named shared-memory sections exist on Windows only.");

    [SupportedOSPlatform("windows")]
    private static SharedSegment CreateNamed(string name, int number, long capacity)
    {
        var file = MemoryMappedFile.CreateNew(name, capacity, MemoryMappedFileAccess.ReadWrite, MemoryMappedFileOptions.None, HandleInheritability.None);
        try
        {
            return new SharedSegment(number, capacity, file, file.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite), path: null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    [SupportedOSPlatform("windows")]
    private static MemoryMappedFile OpenNamed(string name) => MemoryMappedFile.OpenExisting(name, MemoryMappedFileRights.Read, HandleInheritability.None);

    /// <summary>A hold on a segment's mapping: its memory, as a span or as a sequence for a frame handler.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly SafeMemoryMappedViewHandle _handle;
        private readonly byte* _start;
        private readonly long _length;

        public Lease(SafeMemoryMappedViewHandle handle, long offset, long length)
        {
            byte* pointer = null;
            handle.AcquirePointer(ref pointer);
            _handle = handle;
            _start = pointer + offset;
            _length = length;
        }

        /// <summary>The first <paramref name="length"/> bytes.</summary>
        public Span<byte> Span(int length) => length <= _length ? new Span<byte>(_start, length) : throw new ArgumentOutOfRangeException(nameof(length));

        /// <summary>The first <paramref name="length"/> bytes as a sequence (valid while the lease is).</summary>
        public ReadOnlySequence<byte> Sequence(int length) => new(new MappedMemory(_start, Span(length).Length).Memory);

        public void Dispose() => _handle.ReleasePointer();
    }

    /// <summary>Mapped memory as <see cref="Memory{T}"/>, so frame handlers read it as they read a pipe's buffer.</summary>
    private sealed class MappedMemory(byte* start, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(start, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(start + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
