using System.Buffers;
using System.Numerics;

namespace ProcessPools.Channels;

/// <summary>
/// The arrays a channel serializes into and reads frames into. Small ones come from the shared array pool. Large ones
/// (1 MiB and more) are kept here, in one list every thread shares: the shared pool keeps a returned array in a slot
/// of the thread that returned it, and a large message's buffer is rented on one thread-pool thread and returned on
/// another, so the next large message missed it and faulted in a fresh one (measured: a worker spent 64% of its time
/// with 256 MiB messages in the kernel zeroing new pages). At most <see cref="Kept"/> large arrays wait here, and none
/// longer than two trim periods unused.
/// </summary>
internal sealed class ChannelBuffers
{
    /// <summary>From this size arrays are kept here rather than in the shared pool.</summary>
    public const int LargeSize = 1024 * 1024;

    /// <summary>How many large arrays wait for reuse at most.</summary>
    public const int Kept = 4;

    private static readonly TimeSpan TrimPeriod = TimeSpan.FromSeconds(10);
    private static readonly ChannelBuffers Shared = new();
    private readonly Lock _gate = new();
    private readonly List<(byte[] Array, bool UsedSinceTrim)> _free = [];
    private Timer? _trim;

    /// <summary>How many large arrays wait now.</summary>
    public int FreeLargeCount
    {
        get
        {
            lock (_gate)
            {
                return _free.Count;
            }
        }
    }

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes, not zeroed, from the process's buffers; give it back with <see cref="Return"/>.</summary>
    public static byte[] Rent(int minimumLength) => minimumLength < LargeSize ? ArrayPool<byte>.Shared.Rent(minimumLength) : Shared.RentLarge(minimumLength);

    /// <summary>Gives an array back to the process's buffers; a large one waits for the next large message.</summary>
    public static void Return(byte[] array)
    {
        if (array.Length < LargeSize)
        {
            ArrayPool<byte>.Shared.Return(array);
            return;
        }

        Shared.ReturnLarge(array);
    }

    /// <summary>The smallest waiting array of at least <paramref name="minimumLength"/> bytes, or a new one (a power of two).</summary>
    public byte[] RentLarge(int minimumLength)
    {
        lock (_gate)
        {
            var best = FreeBySize.SmallestFitting(_free, static free => free.Array.Length, minimumLength);
            if (best >= 0)
            {
                var array = _free[best].Array;
                _free.RemoveAt(best);
                return array;
            }
        }

        // A power of two, as the shared pool's own sizes are (so an array returned there by mistake is still taken).
        var length = minimumLength > 1 << 30 ? minimumLength : (int)BitOperations.RoundUpToPowerOf2((uint)minimumLength);
        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Keeps a large array for reuse; beyond <see cref="Kept"/>, the smallest is dropped.</summary>
    public void ReturnLarge(byte[] array)
    {
        lock (_gate)
        {
            _free.Add((array, true));
            if (_free.Count > Kept)
            {
                _free.RemoveAt(FreeBySize.Smallest(_free, static free => free.Array.Length));
            }

            _trim ??= new Timer(static state => ((ChannelBuffers)state!).Trim(), this, TrimPeriod, TrimPeriod);
        }
    }

    /// <summary>Drops the arrays nobody took since the last trim; the timer stops once none waits.</summary>
    public void Trim()
    {
        lock (_gate)
        {
            for (var i = _free.Count - 1; i >= 0; i--)
            {
                if (_free[i].UsedSinceTrim)
                {
                    _free[i] = (_free[i].Array, false);
                }
                else
                {
                    _free.RemoveAt(i);
                }
            }

            if (_free.Count == 0)
            {
                _trim?.Dispose();
                _trim = null;
            }
        }
    }
}
