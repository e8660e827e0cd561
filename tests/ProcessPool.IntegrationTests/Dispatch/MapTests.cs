namespace ProcessPools.IntegrationTests;

public sealed class MapTests(PoolFixture fixture) : IClassFixture<PoolFixture>
{
    private IProcessPool Pool => fixture.Pool;

    [Fact]
    public async Task Awaiting_a_map_gives_every_result_in_input_order()
    {
        IReadOnlyList<int> squares = await Pool.Map(Jobs.SlowSquareAsync, Enumerable.Range(0, 200));

        Assert.Equal(Enumerable.Range(0, 200).Select(x => x * x), squares);
    }

    [Fact]
    public async Task Streaming_a_map_yields_in_input_order()
    {
        var seen = new List<int>();
        await foreach (var square in Pool.Map(Jobs.SlowSquareAsync, Enumerable.Range(0, 300)))
        {
            seen.Add(square);
        }

        Assert.Equal(Enumerable.Range(0, 300).Select(x => x * x), seen);
    }

    [Fact]
    public async Task A_map_over_ten_thousand_items_returns_every_result_in_input_order()
    {
        var results = await Pool.Map(Jobs.SquareAsync, Enumerable.Range(0, 10_000));

        Assert.Equal(10_000, results.Count);
        Assert.Equal(Enumerable.Range(0, 10_000).Select(x => x * x), results);
    }

    [Fact]
    public async Task Records_through_a_lambda_taking_a_token_and_returning_a_value_task_travel_in_chunks_intact()
    {
        // Thousands of quick items go in chunks, where one-argument jobs run through a typed delegate.
        var points = Enumerable.Range(0, 5_000).Select(i => new LabelledPoint(i, -i, $"p{i}")).ToArray();

        var swapped = await Pool.Map(static (LabelledPoint p, CancellationToken _) => ValueTask.FromResult(p with { X = p.Y, Y = p.X }), points);

        Assert.Equal(points.Select(p => new LabelledPoint(p.Y, p.X, p.Name)), swapped);
    }

    [Fact]
    public async Task An_item_failing_inside_a_chunk_fails_the_map_with_its_own_exception()
    {
        // Item 15 000 comes long after the first answers made the chunks grow.
        var failure = await Assert.ThrowsAsync<RemoteJobException>(async () => await Pool.Map(Jobs.SquareUnless15000Async, Enumerable.Range(0, 20_000)));

        Assert.Equal(("System.InvalidOperationException", "no 15000"), (failure.RemoteType, failure.RemoteMessage));
        Assert.Contains(nameof(Jobs.SquareUnless15000Async), failure.RemoteStackTrace);
        Assert.Equal(Enumerable.Range(0, 15_000).Select(x => x * x), await Pool.Map(Jobs.SquareUnless15000Async, Enumerable.Range(0, 15_000)));
    }

    [Fact]
    public async Task A_result_that_cannot_be_serialized_inside_a_chunk_fails_with_a_clear_message()
    {
        var failure = await Assert.ThrowsAsync<RemoteJobException>(async () => await Pool.Map(Jobs.UnserializableAt15000Async, Enumerable.Range(0, 20_000)));

        Assert.Equal("System.InvalidOperationException", failure.RemoteType);
        Assert.Contains("could not be serialized", failure.RemoteMessage);
        Assert.Contains(nameof(Jobs.UnserializableAt15000Async), failure.RemoteMessage);
    }

    [Fact]
    public async Task Null_and_non_null_references_keep_their_values_through_chunks()
    {
        var words = Enumerable.Range(0, 6_000).Select(i => i % 3 == 0 ? null : new string('x', i % 7)).ToArray();

        var lengths = await Pool.Map(static (string? word) => Task.FromResult(word?.Length ?? -1), words);

        Assert.Equal(words.Select(w => w?.Length ?? -1), lengths);
    }

    [Fact]
    public async Task An_item_that_cannot_be_serialized_ends_the_map_naming_the_job_and_the_pool_carries_on()
    {
        var items = Enumerable.Range(0, 20_000).Select(i => i == 15_000 ? (object)(Func<int>)(() => i) : i);

        var failure = await Assert.ThrowsAsync<ArgumentException>(async () => await Pool.Map(Jobs.DescribeAsync, items));

        Assert.Contains("cannot be serialized", failure.Message);
        Assert.Contains(nameof(Jobs.DescribeAsync), failure.Message);
        Assert.Equal(["1", "2"], await Pool.Map(Jobs.DescribeAsync, new object[] { 1, 2 }));
    }

    [Fact]
    public async Task Cancelling_a_map_of_an_endless_input_ends_it_and_the_pool_carries_on()
    {
        using var cancel = new CancellationTokenSource();
        var consumed = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var square in Pool.Map(Jobs.SquareAsync, Endless(), cancel.Token))
            {
                Assert.Equal(consumed % 1_000 * (consumed % 1_000), square);
                if (++consumed == 5_000)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.InRange(consumed, 5_000, 5_000 + Dispatch.MapOperation<int>.AutomaticWindowLimit); // answers already in hand may still come: at most a window (the automatic one here)
        Assert.Equal(49, await Pool.ApplyAsync(Jobs.SquareAsync, 7));

        static IEnumerable<int> Endless()
        {
            for (var i = 0; ; i++)
            {
                yield return i % 1_000;
            }
        }
    }

    [Fact]
    public async Task AsCompleted_yields_each_index_exactly_once_with_its_result()
    {
        var seen = new int[10_000];
        await foreach (var (index, result) in Pool.Map(Jobs.SlowSquareAsync, Enumerable.Range(0, 10_000)).AsCompleted())
        {
            Assert.Equal(index * index, result);
            seen[index]++;
        }

        Assert.All(seen, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task StarMap_spreads_tuples_over_the_arguments()
    {
        var pairs = await Pool.StarMap(Jobs.AddAsync, [(1, 2), (3, 4), (5, 6)]);
        var triples = await Pool.StarMap(Jobs.ConcatAsync, [("x", 1, true), ("y", 2, false)]);
        var quads = await Pool.StarMap(Jobs.SumFourAsync, Enumerable.Range(0, 50).Select(i => (i, i, i, i)));

        Assert.Equal([3, 7, 11], pairs);
        Assert.Equal(["x-1-True", "y-2-False"], triples);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 4 * i), quads);
    }

    [Fact]
    public async Task A_map_pulls_an_async_source()
    {
        var results = await Pool.Map(Jobs.SquareAsync, CountAsync(100));

        Assert.Equal(Enumerable.Range(0, 100).Select(x => x * x), results);
    }

    [Fact]
    public async Task An_empty_map_completes_with_no_results()
    {
        Assert.Empty(await Pool.Map(Jobs.SquareAsync, Array.Empty<int>()));
        await foreach (var unused in Pool.Map(Jobs.SquareAsync, Array.Empty<int>()).AsCompleted())
        {
            Assert.Fail("nothing to yield");
        }
    }

    [Fact]
    public async Task A_failing_item_ends_the_map_with_its_exception()
    {
        var exception = await Assert.ThrowsAsync<RemoteJobException>(async () =>
            await Pool.Map(Jobs.ThrowInvalidOperationAsync, ["a", "b", "c"]));

        Assert.True(exception.Is<InvalidOperationException>());
        Assert.Contains(exception.RemoteMessage, new[] { "a", "b", "c" });
    }

    [Fact]
    public async Task A_map_result_is_consumed_once()
    {
        var result = Pool.Map(Jobs.SquareAsync, [1, 2, 3]);
        Assert.Equal([1, 4, 9], await result);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await result);
    }

    [Fact]
    public async Task A_map_input_that_throws_ends_the_map_with_that_exception()
    {
        static IEnumerable<int> Broken()
        {
            yield return 1;
            throw new FormatException("bad input");
        }

        var exception = await Assert.ThrowsAsync<FormatException>(async () => await Pool.Map(Jobs.SquareAsync, Broken()));
        Assert.Equal("bad input", exception.Message);
    }

    private static async IAsyncEnumerable<int> CountAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }

    /// <summary>Regression: Map and StarMap took only jobs with a result.</summary>
    [Fact]
    public async Task Map_and_StarMap_run_jobs_without_a_result_and_tell_when_each_item_is_done()
    {
        var directory = Directory.CreateTempSubdirectory("map-void-").FullName;
        try
        {
            var mapped = await Pool.Map(Jobs.DoNothingValueAsync, Enumerable.Range(0, 300)).ToListAsync().WaitAsync(TestPools.HangGuard);
            var starmapped = await Pool.StarMap(Jobs.TouchAsync, Enumerable.Range(0, 20).Select(i => (directory, i))).ToListAsync().WaitAsync(TestPools.HangGuard);

            Assert.Equal(300, mapped.Count);
            Assert.All(mapped, Assert.Null);
            Assert.Equal(20, starmapped.Count);
            Assert.Equal(20, Directory.GetFiles(directory).Length);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_failing_item_of_a_map_without_results_ends_it_with_that_items_exception()
    {
        var exception = await Assert.ThrowsAsync<RemoteJobException>(() => Pool.Map(Jobs.FailOnSevenAsync, Enumerable.Range(0, 50)).ToListAsync()).WaitAsync(TestPools.HangGuard);

        Assert.Equal("item 7", exception.RemoteMessage);
    }

    /// <summary>
    /// Regression: an async input that stops answering (awaits a task that never completes, ignoring the token)
    /// kept a cancelled map's awaited list and its await foreach pending forever.
    /// </summary>
    [Trait("Category", "Chaos")]
    [Fact]
    public async Task Cancelling_a_map_whose_input_stopped_answering_ends_it_for_every_way_of_consuming()
    {
        using var cancelAwaited = new CancellationTokenSource();
        var awaited = Pool.Map(Jobs.SquareAsync, StallsAfterTen(), cancelAwaited.Token).ToListAsync();
        await cancelAwaited.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => awaited).WaitAsync(TestPools.HangGuard);

        using var cancelStreamed = new CancellationTokenSource();
        var received = 0;
        var streamed = Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var square in Pool.Map(Jobs.SquareAsync, StallsAfterTen(), cancelStreamed.Token))
            {
                if (++received == 10)
                {
                    await cancelStreamed.CancelAsync(); // every item the input gave is answered; it gives no more
                }
            }
        });
        await streamed.WaitAsync(TestPools.HangGuard);

        Assert.Equal(10, received);
        Assert.Equal(4, await Pool.ApplyAsync(Jobs.SquareAsync, 2)); // the pool carries on
    }

    private static async IAsyncEnumerable<int> StallsAfterTen()
    {
        for (var i = 0; i < 10; i++)
        {
            yield return i;
        }

        await new TaskCompletionSource().Task; // never completes, and ignores cancellation
        yield return -1;
    }
}

public sealed record LabelledPoint(int X, int Y, string Name);
