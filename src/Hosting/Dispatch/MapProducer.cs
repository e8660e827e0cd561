namespace ProcessPools.Dispatch;

/// <summary>
/// The producer of a map: room in the window first, then the next item, so the input is never pulled ahead
/// of the window; fast items are gathered into chunks from what the input has ready now.
/// </summary>
internal static class MapProducer<TResult>
{
    public static void Start(MapOperation<TResult> map, Func<CancellationToken, MapInput<TResult>> open) =>
        _ = Task.Run(() => ProduceAsync(map, open), CancellationToken.None);

    private static async Task ProduceAsync(MapOperation<TResult> map, Func<CancellationToken, MapInput<TResult>> open)
    {
        var token = map.Cancellation;
        var window = map.Window;
        var index = 0;
        try
        {
            var items = open(token);
            await using var itemsScope = items.ConfigureAwait(false);
            Task<bool>? pendingMove = null; // an item whose window room is taken and whose input is still coming
            var inputEnded = false;
            while (!inputEnded)
            {
                bool more;
                if (pendingMove is not null)
                {
                    more = await pendingMove.ConfigureAwait(false);
                    pendingMove = null;
                }
                else
                {
                    await window.TakeOneAsync(token).ConfigureAwait(false);
                    more = await items.MoveNextAsync().ConfigureAwait(false);
                }

                if (!more)
                {
                    break;
                }

                var firstIndex = index++;
                items.Keep();

                // Fast items travel in chunks: more of what the input has ready now, as far as the window allows.
                var limit = map.Chunks.Limit;
                var room = limit > 1 ? window.TryTake(limit - 1) : 0;
                var used = 0;
                while (used < room)
                {
                    used++; // this room is the next item's, even one still on its way
#pragma warning disable CA2012 // Awaited once: below when it completed at once, as a task on the next round otherwise.
                    var next = items.MoveNextAsync();
                    if (!next.IsCompletedSuccessfully)
                    {
                        pendingMove = next.AsTask();
                        break;
                    }

                    if (!next.Result)
#pragma warning restore CA2012
                    {
                        inputEnded = true;
                        break;
                    }

                    index++;
                    items.Keep();
                }

                window.Release(room - used);
                map.CountPulled(items.Kept);

                var job = items.TakeJob(map, firstIndex);
                map.Track(job);
                if (token.IsCancellationRequested)
                {
                    job.Cancel(token);
                    break;
                }

                map.Pool.Accept(job);
                await map.Pool.Admission.EnqueueAsync(job, token).ConfigureAwait(false);
            }

            token.ThrowIfCancellationRequested();
            map.PostEnd(index, error: null);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException && token.IsCancellationRequested)
        {
            map.PostEnd(index, new OperationCanceledException("The map was cancelled.", exception, token));
        }
        catch (Exception exception)
        {
            // A failing input or an argument that cannot be sent ends the map with that exception.
            map.PostEnd(index, exception);
        }
    }
}
