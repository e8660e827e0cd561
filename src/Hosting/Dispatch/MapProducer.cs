namespace ProcessPools.Dispatch;

/// <summary>
/// The producer of a map: room in the window first, then the next item, so the input is never pulled ahead
/// of the window; fast items are gathered into chunks from what the input has ready now. It stops when the
/// map is cancelled or the pool begins closing, even while the input itself never answers.
/// </summary>
internal static class MapProducer<TResult>
{
    public static void Start(MapOperation<TResult> map, Func<CancellationToken, MapInput<TResult>> open) =>
        _ = Task.Run(() => ProduceAsync(map, open), CancellationToken.None);

    private static async Task ProduceAsync(MapOperation<TResult> map, Func<CancellationToken, MapInput<TResult>> open)
    {
        var token = map.Cancellation;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(token, map.Pool.CloseRequested);
        var stop = stopping.Token;
        var answers = map.Answers;
        var index = 0;
        MapInput<TResult>? items = null;
        Task<bool>? pendingMove = null; // an item whose window room is taken and whose input is still coming
        try
        {
            items = open(token);
            var inputEnded = false;
            while (!inputEnded)
            {
                var more = false;
                if (pendingMove is null)
                {
                    await answers.TakeRoomAsync(stop).ConfigureAwait(false);
#pragma warning disable CA2012 // Awaited once: at once when it completed, as a task below otherwise.
                    var move = items.MoveNextAsync();
                    if (move.IsCompletedSuccessfully)
                    {
                        more = move.Result;
                    }
                    else
                    {
                        pendingMove = move.AsTask();
                    }
#pragma warning restore CA2012
                }

                if (pendingMove is not null)
                {
                    // An input that never answers must not hold the map (or the pool's close) forever.
                    more = await pendingMove.WaitAsync(stop).ConfigureAwait(false);
                    pendingMove = null;
                }

                if (!more)
                {
                    break;
                }

                var firstIndex = index++;
                items.Keep();

                // Fast items travel in chunks: more of what the input has ready now, as far as the window allows.
                var limit = map.Chunks.Limit;
                var room = limit > 1 ? answers.TryTakeRoom(limit - 1) : 0;
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

                answers.ReturnRoom(room - used);
                if (stop.IsCancellationRequested && !token.IsCancellationRequested)
                {
                    // The pool began closing while these items were pulled: they never become a job, and the
                    // map ends after the items before them.
                    items.Discard();
                    index = firstIndex;
                    break;
                }

                answers.AddPulled(items.Kept);
                var job = items.TakeJob(map, firstIndex);
                map.Track(job);
                if (token.IsCancellationRequested)
                {
                    job.Cancel(token);
                    break;
                }

                // Taken items are answered even if the pool began closing just now (a closed queue answers them).

                map.Pool.Accept(job);
                await map.Pool.Admission.EnqueueAsync(job, token).ConfigureAwait(false);
            }

            stop.ThrowIfCancellationRequested();
            answers.Complete(index, error: null);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException && token.IsCancellationRequested)
        {
            answers.Complete(index, new OperationCanceledException("The map was cancelled.", exception, token));
        }
        catch (Exception exception) when (exception is OperationCanceledException && stop.IsCancellationRequested)
        {
            // The pool is closing: what was taken is answered; the rest of the input is not taken.
            answers.Complete(index, new ObjectDisposedException(
                map.Pool.DisplayName, $"The process pool '{map.Pool.DisplayName}' closed while the map was running: the {index} items taken from the input were answered; no more were taken."));
        }
        catch (Exception exception)
        {
            // A failing input or an argument that cannot be sent ends the map with that exception.
            answers.Complete(index, exception);
        }
        finally
        {
            await DisposeAsync(items, pendingMove).ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the input; while its last move has not answered, once it does (an enumerator cannot be disposed during a move).</summary>
    private static async Task DisposeAsync(MapInput<TResult>? items, Task<bool>? pendingMove)
    {
        if (items is null)
        {
            return;
        }

        if (pendingMove is { IsCompleted: false })
        {
            _ = pendingMove.ContinueWith(static (_, state) => ((MapInput<TResult>)state!).DisposeAsync().AsTask(), items, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        try
        {
            await items.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException)
        {
            // An input that cannot be disposed now (a move still running inside it) is left to the GC.
        }
    }
}
