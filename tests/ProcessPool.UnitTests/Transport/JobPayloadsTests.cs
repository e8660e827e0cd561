using System.Buffers.Binary;
using ProcessPools.Transport;

namespace ProcessPools.UnitTests.Transport;

/// <summary>The transport seam's caller side: arguments checked at the call site, chunks that stay whole, identities that refuse another build.</summary>
public sealed class JobPayloadsTests
{
    private static readonly JobTarget Square = JobTarget.FromMethod(typeof(RecordingJob).GetMethod(nameof(RecordingJob.SquareAsync))!);

    private static readonly JobPayloads Payloads = new(new JsonJobSerializer(), 64 * 1024);

    [Fact]
    public void A_bad_argument_is_refused_naming_it_and_a_result_type_that_cannot_fit_before_anything_is_sent()
    {
        var wrongType = Assert.Throws<ArgumentException>(() => Payloads.WriteArguments(Square, ["seven"]));
        Assert.Contains("Argument 1 of job", wrongType.Message);
        Assert.Contains("must be System.Int32", wrongType.Message);
        Assert.Throws<ArgumentException>(() => Payloads.WriteArguments(Square, [1, 2]));
        Assert.Throws<ArgumentException>(() => JobPayloads.ThrowIfResultDoesNotFit<string>(Square));
        JobPayloads.ThrowIfResultDoesNotFit<int>(Square);
        Assert.True(Payloads.WriteArguments(Square, [7]).Length > 0);
    }

    /// <summary>
    /// An abstract parameter or result is written as its declared type and cannot be read back: refused at the call, before
    /// a worker fails to read the arguments, or, for a result, before the job runs and its result is lost.
    /// </summary>
    [Fact]
    public void A_job_whose_argument_or_result_could_not_be_read_back_is_refused_before_anything_is_sent()
    {
        var takesShape = JobTarget.FromMethod(typeof(ReadBackJobs).GetMethod(nameof(ReadBackJobs.AreaAsync))!);
        var returnsShape = JobTarget.FromMethod(typeof(ReadBackJobs).GetMethod(nameof(ReadBackJobs.MakeAsync))!);

        var argument = Assert.Throws<ArgumentException>(() => Payloads.WriteArguments(takesShape, [new Serialization.ReadBackCircle(1)]));
        Assert.StartsWith($"Argument 1 of job '{takesShape.Name}' (ProcessPools.UnitTests.Serialization.ReadBackShape) could be written but not read in its worker: ProcessPools.UnitTests.Serialization.ReadBackShape is an abstract class", argument.Message, StringComparison.Ordinal);
        var result = Assert.Throws<ArgumentException>(() => Payloads.ThrowIfUnreadable(returnsShape));
        Assert.Contains("the job would have run and its result been lost", result.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Payloads.CreateChunk(returnsShape));

        // The derived types named: both ways fine.
        var named = JobTarget.FromMethod(typeof(ReadBackJobs).GetMethod(nameof(ReadBackJobs.SideAsync))!);
        Payloads.ThrowIfUnreadable(named);
        Assert.True(Payloads.WriteArguments(named, [new Serialization.ReadBackSquare(2)]).Length > 0);
    }

    public static class ReadBackJobs
    {
        public static Task<double> AreaAsync(Serialization.ReadBackShape shape) => Task.FromResult(shape is Serialization.ReadBackCircle c ? c.Radius : 0);

        public static Task<Serialization.ReadBackShape> MakeAsync(double radius) => Task.FromResult<Serialization.ReadBackShape>(new Serialization.ReadBackCircle(radius));

        public static Task<Serialization.ReadBackNamedShape> SideAsync(Serialization.ReadBackNamedShape shape) => Task.FromResult(shape);
    }

    [Fact]
    public void A_chunk_refuses_a_bad_item_and_stays_as_it_was()
    {
        using var chunk = Payloads.CreateChunk(Square);
        chunk.AddItem(1);
        chunk.Add([2]);
        var length = chunk.Length;

        Assert.Throws<ArgumentException>(() => chunk.AddItem("three"));
        Assert.Throws<ArgumentException>(() => chunk.Add(["three"]));
        Assert.Equal(2, chunk.Count);
        Assert.Equal(length, chunk.Length);

        var bytes = chunk.ToArrayAndClear();
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(bytes));
        Assert.Equal(length, bytes.Length);
        Assert.Equal(0, chunk.Count);
    }

    [Fact]
    public void A_chunk_larger_than_the_message_size_is_refused()
    {
        using var chunk = new JobPayloads(new JsonJobSerializer(), 1024).CreateChunk(Square);
        for (var i = 0; i < 200; i++)
        {
            chunk.AddItem(i);
        }

        Assert.Contains("MaxMessageSize", Assert.Throws<ArgumentException>(() => chunk.ToArrayAndClear()).Message);
    }

    [Fact]
    public void An_identity_finds_its_job_again_and_refuses_another_build()
    {
        var identity = JobIdentity.Of(Square);
        Assert.Same(identity, JobIdentity.Of(Square));
        var found = identity.Resolve();
        Assert.Equal(Square.Name, found.Name);
        Assert.Equal(Square.Method, found.Method);

        var otherBuild = identity with { ModuleVersionId = Guid.NewGuid() };
        Assert.Contains("another build", Assert.Throws<InvalidOperationException>(() => otherBuild.Resolve()).Message);
    }
}
