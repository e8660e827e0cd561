namespace ProcessPools.Channels;

/// <summary>
/// The two choices a pool of reusable buffers of different sizes makes, shared by the channel's large arrays
/// (<see cref="ChannelBuffers"/>) and its shared-memory segments (<see cref="OutgoingSegments"/>).
/// </summary>
internal static class FreeBySize
{
    /// <summary>The index of the smallest item of at least <paramref name="minimum"/>, or -1 when none is that large.</summary>
    public static int SmallestFitting<T>(List<T> free, Func<T, long> size, long minimum)
    {
        var best = -1;
        for (var i = 0; i < free.Count; i++)
        {
            if (size(free[i]) >= minimum && (best < 0 || size(free[i]) < size(free[best])))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>The index of the smallest item (the one to drop beyond a bound); the list is not empty.</summary>
    public static int Smallest<T>(List<T> free, Func<T, long> size)
    {
        var smallest = 0;
        for (var i = 1; i < free.Count; i++)
        {
            smallest = size(free[i]) < size(free[smallest]) ? i : smallest;
        }

        return smallest;
    }
}
