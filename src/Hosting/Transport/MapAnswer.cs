namespace ProcessPools.Transport;

/// <summary>
/// One answer of a map: an item's value or error, or with <paramref name="Values"/> the values of consecutive items
/// from <paramref name="Index"/> on; an index of -1 marks the end of the input with the item count (or a failure of the input).
/// </summary>
internal readonly record struct MapAnswer<TResult>(int Index, TResult? Value, Exception? Error, int Total, TResult[]? Values = null)
{
    public int Count => Values?.Length ?? 1;

    /// <summary>The value of item <c>Index + offset</c>.</summary>
    public TResult ValueAt(int offset) => Values is { } values ? values[offset] : Value!;
}
