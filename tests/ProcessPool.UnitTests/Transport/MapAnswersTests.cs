using ProcessPools.Transport;

namespace ProcessPools.UnitTests.Transport;

/// <summary>The reading side every map shares (local and cluster): order, completion order, progress, read-once, abandon = cancel, the window.</summary>
public sealed class MapAnswersTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_posted_out_of_order_are_read_in_input_order()
    {
        var answers = new MapAnswers<int>(window: 16);
        answers.AddPulled(5);
        answers.Answer(3, [30, 40]);
        answers.Answer(1, 10);
        answers.Answer(0, 0);
        answers.Answer(2, 20);
        answers.Complete(5);

        var read = new List<int>();
        await foreach (var value in answers.Result.WithCancellation(Token))
        {
            read.Add(value);
        }

        Assert.Equal([0, 10, 20, 30, 40], read);
    }

    [Fact]
    public async Task As_completed_gives_each_index_once_and_the_list_is_in_input_order()
    {
        var completed = new MapAnswers<int>(window: 16);
        completed.Answer(2, [2, 3]);
        completed.Answer(0, [0, 1]);
        completed.Complete(4);
        var seen = new List<(int, int)>();
        await foreach (var pair in completed.Result.AsCompleted().WithCancellation(Token))
        {
            seen.Add(pair);
        }

        Assert.Equal([(2, 2), (3, 3), (0, 0), (1, 1)], seen);

        var listed = new MapAnswers<string>(window: 16, expectedCount: 3);
        listed.Answer(2, "c");
        listed.Answer(0, ["a", "b"]);
        listed.Complete(3);
        Assert.Equal(["a", "b", "c"], await listed.Result);
    }

    [Fact]
    public async Task The_first_failure_read_ends_the_map_and_cancels_the_producer()
    {
        var answers = new MapAnswers<int>(window: 16);
        answers.Answer(0, 1);
        answers.Answer(1, [2, 3], [null, new InvalidOperationException("item 2 failed")]);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => answers.Result.ToListAsync());
        Assert.Equal("item 2 failed", failure.Message);
        Assert.True(answers.Cancellation.IsCancellationRequested, "the producer was not told to stop");
        Assert.Equal(new MapProgress { Succeeded = 2, Failed = 1 }, answers.Result.Progress);
    }

    [Fact]
    public async Task Stopping_early_cancels_what_is_left_and_the_result_is_read_once()
    {
        var answers = new MapAnswers<int>(window: 16);
        answers.AddPulled(3);
        answers.Answer(0, [1, 2, 3]);
        await foreach (var value in answers.Result.WithCancellation(Token))
        {
            break;
        }

        Assert.True(answers.Cancellation.IsCancellationRequested);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => answers.Result.ToListAsync());
        Assert.Contains("consumed once", again.Message);
    }

    [Fact]
    public async Task A_closed_pool_ends_the_map_after_the_items_it_took_are_answered()
    {
        var answers = new MapAnswers<int>(window: 16);
        answers.Complete(2, new ObjectDisposedException("pool", "closed under the map"));
        answers.Answer(1, 20);
        var reading = answers.Result.AsCompleted().GetAsyncEnumerator(Token);
        Assert.True(await reading.MoveNextAsync());
        Assert.Equal((1, 20), reading.Current);
        answers.Answer(0, 10);
        Assert.True(await reading.MoveNextAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await reading.MoveNextAsync());
    }

    [Fact]
    public async Task Window_room_comes_back_per_answer_read_not_per_item()
    {
        var answers = new MapAnswers<int>(window: 8);
        Assert.Equal(8, answers.TryTakeRoom(100));
        answers.Answer(0, [0, 1, 2, 3, 4, 5, 6, 7]);
        answers.Complete(8);

        var reading = answers.Result.GetAsyncEnumerator(Token);
        for (var i = 0; i < 7; i++)
        {
            Assert.True(await reading.MoveNextAsync());
            Assert.Equal(0, answers.TryTakeRoom(1)); // the consumer holds the chunk's items: no room yet
        }

        Assert.True(await reading.MoveNextAsync());
        Assert.False(await reading.MoveNextAsync()); // past the chunk: its room comes back in one piece
        Assert.Equal(8, answers.TryTakeRoom(100));
    }

    [Fact]
    public async Task In_order_reading_hands_out_an_answers_items_at_once_and_stops_at_the_callers_token_while_waiting()
    {
        var answers = new MapAnswers<int>(window: 16);
        answers.Answer(2, [3, 4]); // early: waits for 0 and 1
        answers.Answer(0, [1, 2]);
        using var stop = new CancellationTokenSource();
        var reading = answers.Result.GetAsyncEnumerator(stop.Token);
        var read = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            var next = reading.MoveNextAsync();
            Assert.True(i == 0 || next.IsCompletedSuccessfully, $"item {i} was not handed out at once");
            Assert.True(await next);
            read.Add(reading.Current);
        }

        var waiting = reading.MoveNextAsync();
        Assert.False(waiting.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        await reading.DisposeAsync();

        Assert.Equal([1, 2, 3, 4], read);
        Assert.True(answers.Cancellation.IsCancellationRequested, "the producer was not told to stop");
    }

    /// <summary>Regression: AsCompleted() ignored the token given to its enumerator (WithCancellation), so a wait for the next answer could not be stopped.</summary>
    [Fact]
    public async Task Reading_as_completed_stops_at_the_callers_token_while_waiting()
    {
        var answers = new MapAnswers<int>(window: 16);
        answers.Answer(1, 10);
        using var stop = new CancellationTokenSource();
        var reading = answers.Result.AsCompleted().GetAsyncEnumerator(stop.Token);
        Assert.True(await reading.MoveNextAsync());
        Assert.Equal((1, 10), reading.Current);

        var waiting = reading.MoveNextAsync();
        Assert.False(waiting.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(30), Token));
        await reading.DisposeAsync();
        Assert.True(answers.Cancellation.IsCancellationRequested, "the producer was not told to stop");
    }

    [Fact]
    public void Bad_arguments_are_refused_by_name()
    {
        Assert.Equal("window", Assert.Throws<ArgumentOutOfRangeException>(() => new MapAnswers<int>(0)).ParamName);
        Assert.Equal("expectedCount", Assert.Throws<ArgumentOutOfRangeException>(() => new MapAnswers<int>(4, -1)).ParamName);
        Assert.Equal("total", Assert.Throws<ArgumentOutOfRangeException>(() => new MapAnswers<int>(4).Complete(-1)).ParamName);
    }
}
