namespace ProcessPools.IntegrationTests;

public sealed class ApplyTests(PoolFixture fixture) : IClassFixture<PoolFixture>
{
    private IProcessPool Pool => fixture.Pool;

    [Fact]
    public async Task Jobs_run_in_worker_processes_not_in_the_caller()
    {
        var pid = await Pool.ApplyAsync(Jobs.GetProcessIdAsync);

        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.Contains(pid, TestPools.WorkerPids(Pool));
    }

    [Fact]
    public async Task Apply_takes_zero_to_four_arguments_and_every_task_shape()
    {
        Assert.Equal(49, await Pool.ApplyAsync(Jobs.SquareAsync, 7));
        Assert.Equal(5, await Pool.ApplyAsync(Jobs.AddAsync, 2, 3));
        Assert.Equal("a-1-True", await Pool.ApplyAsync(Jobs.ConcatAsync, "a", 1, true));
        Assert.Equal(10, await Pool.ApplyAsync(Jobs.SumFourAsync, 1, 2, 3, 4));
        await Pool.ApplyAsync(Jobs.DoNothingAsync);
        await Pool.ApplyAsync(Jobs.DoNothingValueAsync, 3);
        Assert.Equal(new Point(11, 2), await Pool.ApplyAsync(Jobs.MovePointAsync, new Point(1, 2), 10));
    }

    [Fact]
    public async Task A_static_lambda_runs_in_the_worker()
    {
        var result = await Pool.ApplyAsync(static (int x) => Task.FromResult((x * 3, Environment.ProcessId)), 5);

        Assert.Equal(15, result.Item1);
        Assert.NotEqual(Environment.ProcessId, result.Item2);
    }

    [Fact]
    public async Task A_remote_exception_keeps_its_type_message_and_stack()
    {
        var exception = await Assert.ThrowsAsync<RemoteJobException>(() => Pool.ApplyAsync(Jobs.ThrowInvalidOperationAsync, "boom"));

        Assert.Equal("System.InvalidOperationException", exception.RemoteType);
        Assert.Equal("boom", exception.RemoteMessage);
        Assert.True(exception.Is<InvalidOperationException>());
        Assert.True(exception.Is<Exception>());
        Assert.False(exception.Is<ArgumentException>());
        Assert.Contains(nameof(Jobs.ThrowInvalidOperationAsync), exception.RemoteStackTrace);
        Assert.Contains("ProcessPools.IntegrationTests.Jobs.ThrowInvalidOperationAsync", exception.Message);
        Assert.Contains(nameof(Jobs.ThrowInvalidOperationAsync), exception.ToString());
    }

    [Fact]
    public async Task A_derived_remote_exception_matches_its_base_type()
    {
        var exception = await Assert.ThrowsAsync<RemoteJobException>(() => Pool.ApplyAsync(Jobs.ThrowArgumentNullLaterAsync, "name"));

        Assert.Equal("System.ArgumentNullException", exception.RemoteType);
        Assert.True(exception.Is<ArgumentException>());
        Assert.StartsWith("nested failure", exception.RemoteMessage);
    }

    [Fact]
    public async Task Inner_exceptions_come_back_too()
    {
        var exception = await Assert.ThrowsAsync<RemoteJobException>(() => Pool.ApplyAsync(Jobs.ThrowWithInnerAsync));

        var inner = Assert.IsType<RemoteJobException>(exception.InnerException);
        Assert.Equal("System.FormatException", inner.RemoteType);
        Assert.Equal("inner", inner.RemoteMessage);
        Assert.Single(exception.InnerExceptions);
    }

    [Fact]
    public async Task A_capturing_lambda_is_refused_at_the_call_site()
    {
        var offset = Random.Shared.Next(1, 10);

        // The generator warns here at build time (PP0001); this checks what the runtime says to a build that ignored it.
#pragma warning disable PP0001
        var exception = Assert.Throws<ArgumentException>(() => { _ = Pool.ApplyAsync((int x) => Task.FromResult(x + offset), 1); });
#pragma warning restore PP0001

        Assert.Equal("job", exception.ParamName);
        Assert.Contains("captures", exception.Message);
        Assert.Contains("'offset'", exception.Message);
    }

    [Fact]
    public void An_instance_method_is_refused_at_the_call_site()
    {
#pragma warning disable PP0002 // the generator's build-time warning; this checks the runtime's refusal
        var exception = Assert.Throws<ArgumentException>(() => { _ = Pool.ApplyAsync(InstanceJobAsync, 1); });
#pragma warning restore PP0002

        Assert.Contains("instance method", exception.Message);
    }

    [Fact]
    public async Task An_argument_that_cannot_be_serialized_fails_at_the_call_site_and_the_pool_carries_on()
    {
        var cyclic = new Node();
        cyclic.Next = cyclic;

        var exception = Assert.Throws<ArgumentException>(() => { _ = Pool.ApplyAsync(Jobs.CountNodesAsync, cyclic); });

        Assert.Contains("Argument 1 of job 'ProcessPools.IntegrationTests.Jobs.CountNodesAsync'", exception.Message);
        Assert.Contains("cannot be serialized", exception.Message);
        Assert.Equal(4, await Pool.ApplyAsync(Jobs.SquareAsync, 2));
    }

    [Fact]
    public async Task A_result_that_cannot_be_serialized_fails_that_job_with_a_clear_message()
    {
        var exception = await Assert.ThrowsAsync<RemoteJobException>(() => Pool.ApplyAsync(Jobs.ReturnUnserializableAsync));

        Assert.Contains("could not be serialized", exception.RemoteMessage);
        Assert.Equal(9, await Pool.ApplyAsync(Jobs.SquareAsync, 3));
    }

    [Fact]
    public async Task A_job_class_travels_over_the_same_wire()
    {
        var target = JobTarget.FromJobType(typeof(GreetingJob));

        var result = await Pool.InvokeAsync<string>(target, ["Ada"]);

        Assert.Equal($"hello Ada from {GreetingJob.Describe()}", result.Split(" pid ")[0]);
        Assert.NotEqual(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Split(" pid ")[1]);
    }

    [Fact]
    public async Task Wrong_argument_types_are_refused_before_anything_is_sent()
    {
        var target = JobTarget.FromDelegate(Jobs.SquareAsync);

        var exception = Assert.Throws<ArgumentException>(() => { _ = Pool.InvokeAsync<int>(target, ["seven"]); });

        Assert.Contains("must be System.Int32", exception.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Pool.InvokeAsync<int>(target, [1, 2]));
    }

    private Task<int> InstanceJobAsync(int x) => Task.FromResult(x + Pool.GetHashCode());

    /// <summary>Regression: InvokeAsync&lt;string&gt; on a job returning int ran the job, then failed naming the wrong type.</summary>
    [Fact]
    public async Task Asking_for_a_result_the_job_cannot_give_fails_at_the_call_before_anything_runs()
    {
        var exception = Assert.Throws<ArgumentException>(() => { _ = Pool.InvokeAsync<string>(JobTarget.FromDelegate(Jobs.SquareAsync), [2]); });

        Assert.Contains("returns System.Int32, which cannot be given as System.String", exception.Message);
        Assert.Equal(4, await Pool.InvokeAsync<object>(JobTarget.FromDelegate(Jobs.SquareAsync), [2])); // a base type fits
    }

    /// <summary>
    /// Regression: a job returning an abstract type ran, did its work, and then its caller could not read the result
    /// ("Deserialization of interface or abstract types is not supported"). Now it is refused at the call, apply and map
    /// alike, and the job never runs; a type whose JSON names its derived types crosses both ways as what it was.
    /// </summary>
    [Fact]
    public async Task A_result_the_caller_could_not_read_back_is_refused_before_the_job_runs()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"processpool-readback-{Guid.NewGuid():N}");

        var apply = Assert.Throws<ArgumentException>(() => { _ = Pool.ApplyAsync(ShapeJobs.MakeAsync, marker); });
        var map = Assert.Throws<ArgumentException>(() => { _ = Pool.Map(ShapeJobs.MakeAsync, [marker]); });

        Assert.StartsWith($"The result of job '{typeof(ShapeJobs).FullName}.MakeAsync' ({typeof(UnnamedShape)}) could not be read back from its worker: {typeof(UnnamedShape)} is an abstract class", apply.Message, StringComparison.Ordinal);
        Assert.Equal(apply.Message, map.Message);
        Assert.Equal(new Circle(6), await Pool.ApplyAsync(ShapeJobs.GrowAsync, (Shape)new Circle(3)));
        Assert.False(File.Exists(marker)); // after a job of the same worker: the refused one never ran
    }
}
