using ProcessPools.Dispatch;

namespace ProcessPools.UnitTests.Jobs;

/// <summary>What crosses into a worker: a job's identity, checked at the call site; a request resolved to its registered job class.</summary>
public sealed class JobIdentityTests
{
    [Fact]
    public void A_static_lambda_is_a_job_with_its_sent_parameters_only()
    {
        var target = JobTarget.FromDelegate(static (int x, string s, IProgress<int> progress, IServiceProvider services, CancellationToken token) => Task.FromResult(s.Length + x));

        Assert.Equal([typeof(int), typeof(string), typeof(IProgress<int>)], target.ParameterTypes);
        Assert.Equal(typeof(int), target.ProgressType);
        Assert.Equal(typeof(int), target.ResultType);
        Assert.Same(target, JobTarget.FromDelegate(target.Method!.CreateDelegate<Func<int, string, IProgress<int>, IServiceProvider, CancellationToken, Task<int>>>(null)));
    }

    [Fact]
    public void A_capturing_lambda_is_refused_naming_what_it_captures_in_plain_words()
    {
        var (offset, scale) = (Random.Shared.Next(), Random.Shared.Next());

        var exception = Assert.Throws<ArgumentException>(() => JobTarget.FromDelegate((int x) => Task.FromResult(x + offset + scale)));

        Assert.Equal("job", exception.ParamName);
        Assert.Contains("captures ", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'offset'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'scale'", exception.Message, StringComparison.Ordinal);
        Assert.Contains(" from the code around it", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Pass the values the job needs as its arguments", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("<>", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_that_does_not_return_a_task_is_refused()
    {
        var exception = Assert.Throws<ArgumentException>(() => JobTarget.FromDelegate(static (int x) => x));

        Assert.Contains("must return Task, Task<T>, ValueTask or ValueTask<T>", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_resolves_to_the_job_class_registered_for_its_type_or_a_base_type()
    {
        var registry = new JobRegistry("images", [JobTarget.FromJobType(typeof(ResizeJob))]);

        Assert.Same(JobTarget.FromJobType(typeof(ResizeJob)), registry.Resolve(JobTarget.ForRequest(typeof(ResizeRequest), typeof(int))));
        Assert.Same(JobTarget.FromJobType(typeof(ResizeJob)), registry.Resolve(JobTarget.ForRequest(typeof(ThumbnailRequest), typeof(int))));
        Assert.Same(JobTarget.ForRequest(typeof(ResizeRequest), typeof(int)), JobTarget.ForRequest(typeof(ResizeRequest), typeof(int)));
    }

    [Fact]
    public void A_request_without_a_registered_job_class_fails_naming_the_pool_and_the_fix()
    {
        var registry = new JobRegistry("images", []);

        var exception = Assert.Throws<InvalidOperationException>(() => registry.Resolve(JobTarget.ForRequest(typeof(ResizeRequest), typeof(int))));

        Assert.Contains("process pool 'images'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("AddJob<TJob>()", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_expecting_another_result_than_its_job_class_returns_fails()
    {
        var registry = new JobRegistry("images", [JobTarget.FromJobType(typeof(ResizeJob))]);

        var exception = Assert.Throws<InvalidOperationException>(() => registry.Resolve(JobTarget.ForRequest(typeof(ResizeRequest), typeof(string))));

        Assert.Contains("returns System.Int32, not System.String", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unregistered_job_class_fails_before_anything_is_sent()
    {
        var registry = new JobRegistry("", []);

        var exception = Assert.Throws<InvalidOperationException>(() => registry.Resolve(JobTarget.FromJobType(typeof(ResizeJob))));

        Assert.Contains("AddJob<ResizeJob>()", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_job_classes_taking_the_same_argument_are_refused()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => new JobRegistry("", [JobTarget.FromJobType(typeof(ResizeJob)), JobTarget.FromJobType(typeof(OtherResizeJob))]));

        Assert.Contains("SendAsync could not choose", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_has_one_channel_number_for_the_whole_process()
    {
        var target = JobTarget.FromDelegate(RecordingJob.SquareAsync);

        Assert.Equal(JobRegistry.NumberOf(target), JobRegistry.NumberOf(target));
        Assert.NotEqual(JobRegistry.NumberOf(target), JobRegistry.NumberOf(JobTarget.FromJobType(typeof(ResizeJob))));
    }

    public class ResizeRequest : IJobRequest<int>;

    public sealed class ThumbnailRequest : ResizeRequest;

    public sealed class ResizeJob : IProcessJob<ResizeRequest, int>
    {
        public Task<int> ExecuteAsync(ResizeRequest argument, CancellationToken cancellationToken) => Task.FromResult(1);
    }

    public sealed class OtherResizeJob : IProcessJob<ResizeRequest, int>
    {
        public Task<int> ExecuteAsync(ResizeRequest argument, CancellationToken cancellationToken) => Task.FromResult(2);
    }
}
