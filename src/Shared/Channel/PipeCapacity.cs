using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProcessPools.Channels;

/// <summary>
/// The capacity of one of a channel's pipes, grown once its first large frame goes through. A Linux pipe holds 64 KiB:
/// a larger message crosses in 64 KiB pieces, and each piece waits for the other side to wake up and read the one
/// before (on an idle machine, a halted CPU brought back each time). Measured here with two processes and a reused
/// buffer: a 1 MiB message at 1.3 GB/s through a 64 KiB pipe, 3.0 GB/s at 256 KiB, 4.5 GB/s at 1 MiB. So the parent
/// grows a worker's pipe to 1 MiB (<c>F_SETPIPE_SZ</c>) when a frame over 64 KiB is written to it or announced on it;
/// channels that only carry small frames keep the default.
/// </summary>
/// <remarks>
/// A user's pipes share a budget (<c>/proc/sys/fs/pipe-user-pages-soft</c>, 64 MiB by default): once it is spent, every
/// new pipe of that user, in any program, gets a two-page buffer. So the pipes grown by this process take at most half
/// of it, and give their share back when their channel closes. A pipe that cannot grow (a lower
/// <c>pipe-max-size</c>, the budget spent) keeps its 64 KiB and works as before. macOS and Windows have no such call
/// on an open anonymous pipe: there a channel keeps the size its pipe was made with.
/// </remarks>
internal sealed partial class PipeCapacity : IDisposable
{
    /// <summary>What a Linux pipe holds unless grown; frames up to this size gain nothing from a larger pipe.</summary>
    public const int Default = 64 * 1024;

    /// <summary>The capacity asked for: what an unprivileged process may set by default (<c>pipe-max-size</c>).</summary>
    public const int Large = 1024 * 1024;

    private const int PageSize = 4096;
    private const int SetPipeSize = 1031; // F_SETPIPE_SZ
    private const int GetPipeSize = 1032; // F_GETPIPE_SZ
    private const int Small = 0, Grown = 1, Refused = 2, Closed = 3;

    private static readonly Lazy<Budget> s_budget = new(Budget.FromSystem);

    private readonly SafePipeHandle _pipe;
    private readonly Budget _budget;
    private int _state;
    private int _pages;

    private PipeCapacity(SafePipeHandle pipe, Budget budget)
    {
        _pipe = pipe;
        _budget = budget;
    }

    /// <summary>Whether <paramref name="os"/> can grow an open anonymous pipe: Linux only (<c>F_SETPIPE_SZ</c>).</summary>
    public static bool CanGrow(HostOs os) => os == HostOs.Linux;

    /// <summary>
    /// The capacity to ask for, given the system's largest for an unprivileged process (<c>pipe-max-size</c>); 0 when
    /// growing would not reach past the default.
    /// </summary>
    public static int TargetSize(long maxPipeSize) => maxPipeSize > Default ? (int)Math.Min(Large, maxPipeSize) : 0;

    /// <summary>
    /// How many pages this process's grown pipes may hold in all: half of the user's soft limit
    /// (<c>pipe-user-pages-soft</c>, where 0 means none), so that other pipes of the same user keep their size.
    /// </summary>
    public static long BudgetPages(long softLimitPages) => softLimitPages <= 0 ? long.MaxValue : softLimitPages / 2;

    /// <summary>One of a worker's pipes, seen from the parent; null where the OS cannot grow it.</summary>
    public static PipeCapacity? For(SafePipeHandle pipe, HostOs os) => CanGrow(os) && s_budget.Value.Size > 0 ? new PipeCapacity(pipe, s_budget.Value) : null;

    /// <summary>A pipe growing to <see cref="Budget.Size"/> within <paramref name="budget"/> (tests give it one of their own).</summary>
    internal static PipeCapacity For(SafePipeHandle pipe, Budget budget) => new(pipe, budget);

    /// <summary>The pipe's capacity now, in bytes (Linux); -1 where it cannot be read.</summary>
    public static int Read(SafePipeHandle pipe) => Fcntl(pipe, GetPipeSize, 0);

    /// <summary>
    /// Grows the pipe the first time a frame of <paramref name="frameSize"/> bytes (header included) is larger than
    /// what it holds; nothing otherwise. Called by the pipe's one writer or one reader thread.
    /// </summary>
    public void Ensure(long frameSize)
    {
        if (frameSize > Default && Volatile.Read(ref _state) == Small)
        {
            Grow();
        }
    }

    private void Grow()
    {
        var pages = _budget.Size / PageSize;
        if (!_budget.TryTake(pages))
        {
            Interlocked.CompareExchange(ref _state, Refused, Small);
            return;
        }

        // The handle may be closed under this call when the channel ends: the SafeHandle keeps the descriptor valid.
        _pages = pages; // before the state says so: Dispose gives back what it reads here
        if (Fcntl(_pipe, SetPipeSize, _budget.Size) < 0 || Interlocked.CompareExchange(ref _state, Grown, Small) != Small)
        {
            _budget.Give(pages);
            Interlocked.CompareExchange(ref _state, Refused, Small);
        }
    }

    /// <summary>The channel closed: its pipe's share of the budget goes back.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _state, Closed) == Grown)
        {
            _budget.Give(_pages);
        }
    }

    private static int Fcntl(SafePipeHandle pipe, int command, int argument)
    {
        var added = false;
        try
        {
            pipe.DangerousAddRef(ref added);
            return FcntlInt(pipe.DangerousGetHandle().ToInt32(), command, argument);
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        finally
        {
            if (added)
            {
                pipe.DangerousRelease();
            }
        }
    }

    // fcntl is variadic in C; its third argument is an int for these two commands, passed in a register on Linux's ABIs.
    // Linux only (CanGrow): on macOS arm64 a variadic argument goes on the stack, which a fixed signature does not do.
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int FcntlInt(int descriptor, int command, int argument);

    /// <summary>The pages this process's grown pipes may still take, and the size each is grown to.</summary>
    internal sealed class Budget(int size, long pages)
    {
        private long _left = pages;

        public int Size { get; } = size;

        /// <summary>The pages left to take.</summary>
        public long Left => Volatile.Read(ref _left);

        public static Budget FromSystem()
        {
            var size = TargetSize(ReadLimit("/proc/sys/fs/pipe-max-size") ?? Large);
            return new Budget(size, BudgetPages(ReadLimit("/proc/sys/fs/pipe-user-pages-soft") ?? 16384));
        }

        public bool TryTake(int count)
        {
            var left = Volatile.Read(ref _left);
            while (left >= count)
            {
                var seen = Interlocked.CompareExchange(ref _left, left - count, left);
                if (seen == left)
                {
                    return true;
                }

                left = seen;
            }

            return false;
        }

        public void Give(int count) => Interlocked.Add(ref _left, count);

        private static long? ReadLimit(string path)
        {
            try
            {
                return long.TryParse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
