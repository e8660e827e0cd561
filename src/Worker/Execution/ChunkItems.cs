using System.Buffers;
using System.Reflection;
using ProcessPools.Channels;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// The items of a chunk (consecutive items of a map in one frame): read on the reader thread, then run one after
/// the other, each writing its result.
/// </summary>
internal abstract class ChunkItems(int count)
{
    /// <summary>Gets, per item, why its arguments could not be read (that item fails with it), or null.</summary>
    public Exception?[] Errors { get; } = new Exception?[count];

    public int Count => Errors.Length;

    /// <summary>Reads one item's arguments; throws <see cref="InvalidDataException"/> for a malformed frame.</summary>
    public abstract void Read(int index, ref SequenceReader<byte> item);

    /// <summary>Runs one item and writes its result (nothing for a job without one); throws what the job throws.</summary>
    public abstract ValueTask RunAsync(int index, PooledBufferWriter answers, IServiceProvider services, CancellationToken cancellationToken);

    /// <summary>The item's arguments as the exception handlers see them.</summary>
    public abstract object?[] Arguments(int index);
}

/// <summary>Reads the arguments of one job or item from its part of a frame.</summary>
internal delegate object?[] ArgumentsReader(JobInvoker invoker, ref SequenceReader<byte> reader);

/// <summary>Items as argument arrays, run through the job's <see cref="JobInvoker"/>: any job shape, any serializer.</summary>
internal sealed class BoxedChunkItems(JobInvoker invoker, IJobSerializer serializer, ArgumentsReader read, int count)
    : ChunkItems(count)
{
    private readonly object?[]?[] _items = new object?[]?[count];

    public override void Read(int index, ref SequenceReader<byte> item) => _items[index] = read(invoker, ref item);

    public override async ValueTask RunAsync(int index, PooledBufferWriter answers, IServiceProvider services, CancellationToken cancellationToken)
    {
        var result = await invoker.InvokeAsync(_items[index]!, services, cancellationToken).ConfigureAwait(false);
        if (invoker.ResultType != typeof(void))
        {
            try
            {
                serializer.Serialize(answers, result, invoker.ResultType);
            }
            catch (Exception exception)
            {
                throw JobInvoker.Unserializable(invoker.Name, invoker.ResultType, exception);
            }
        }
    }

    public override object?[] Arguments(int index) => _items[index]!;
}

/// <summary>
/// A job of one sent argument (and optionally a cancellation token) returning <c>Task&lt;T&gt;</c> or
/// <c>ValueTask&lt;T&gt;</c>, called through a typed delegate: no argument arrays, no boxing, no reflection per item.
/// </summary>
internal abstract class TypedJob
{
    /// <summary>The typed form of a job, or null when its shape needs the general path.</summary>
    public static TypedJob? TryCreate(string name, MethodInfo method, object? instance, Type? jobType)
    {
        var parameters = method.GetParameters();
        var returnType = method.ReturnType;
        if (jobType is not null || !returnType.IsGenericType || parameters.Length is 0 or > 2
            || (parameters.Length == 2 && parameters[1].ParameterType != typeof(CancellationToken))
            || JobTarget.IsBoundInChild(parameters[0].ParameterType) || JobTarget.ProgressValueType(parameters[0].ParameterType) is not null
            || parameters[0].ParameterType.IsByRef)
        {
            return null;
        }

        var definition = returnType.GetGenericTypeDefinition();
        if (definition != typeof(Task<>) && definition != typeof(ValueTask<>))
        {
            return null;
        }

        try
        {
            var typed = typeof(TypedJob<,>).MakeGenericType(parameters[0].ParameterType, returnType.GetGenericArguments()[0]);
            return (TypedJob)Activator.CreateInstance(typed, name, method, instance, parameters.Length == 2, definition == typeof(ValueTask<>))!;
        }
        catch (Exception exception) when (exception is ArgumentException or TargetInvocationException or NotSupportedException)
        {
            return null; // a shape no typed delegate fits (the general path runs it)
        }
    }

    public abstract ChunkItems CreateItems(JsonJobSerializer serializer, int count);
}

internal sealed class TypedJob<TArg, TResult> : TypedJob
{
    private readonly string _name;
    private readonly Func<TArg, CancellationToken, ValueTask<TResult>> _call;

    public TypedJob(string name, MethodInfo method, object? instance, bool takesToken, bool returnsValueTask)
    {
        _name = name;
        _call = (takesToken, returnsValueTask) switch
        {
            (false, false) => Wrap(method.CreateDelegate<Func<TArg, Task<TResult>>>(instance)),
            (true, false) => Wrap(method.CreateDelegate<Func<TArg, CancellationToken, Task<TResult>>>(instance)),
            (false, true) => Wrap(method.CreateDelegate<Func<TArg, ValueTask<TResult>>>(instance)),
            (true, true) => method.CreateDelegate<Func<TArg, CancellationToken, ValueTask<TResult>>>(instance),
        };

        Func<TArg, CancellationToken, ValueTask<TResult>> Wrap(Delegate job) => job switch
        {
            Func<TArg, Task<TResult>> task => (argument, _) => new ValueTask<TResult>(task(argument) ?? throw JobInvoker.NullTask(name)),
            Func<TArg, CancellationToken, Task<TResult>> task => (argument, token) => new ValueTask<TResult>(task(argument, token) ?? throw JobInvoker.NullTask(name)),
            Func<TArg, ValueTask<TResult>> valueTask => (argument, _) => valueTask(argument),
            _ => throw new ArgumentException("Not a job delegate.", nameof(job)),
        };
    }

    public override ChunkItems CreateItems(JsonJobSerializer serializer, int count) => new Items(this, serializer, count);

    private sealed class Items(TypedJob<TArg, TResult> job, JsonJobSerializer serializer, int count) : ChunkItems(count)
    {
        private readonly TArg[] _arguments = new TArg[count];

        public override void Read(int index, ref SequenceReader<byte> item)
        {
            if (!item.TryReadLittleEndian(out int length) || item.Remaining < length)
            {
                throw new InvalidDataException($"The arguments of job '{job._name}' are truncated.");
            }

            _arguments[index] = serializer.DeserializeValue<TArg>(item.UnreadSequence.Slice(0, length));
            item.Advance(length);
        }

        public override ValueTask RunAsync(int index, PooledBufferWriter answers, IServiceProvider services, CancellationToken cancellationToken)
        {
            var pending = job._call(_arguments[index], cancellationToken);
            if (!pending.IsCompletedSuccessfully)
            {
                return WriteWhenDoneAsync(pending, answers);
            }

            Write(pending.Result, answers);
            return default;
        }

        public override object?[] Arguments(int index) => [_arguments[index]];

        private async ValueTask WriteWhenDoneAsync(ValueTask<TResult> pending, PooledBufferWriter answers) =>
            Write(await pending.ConfigureAwait(false), answers);

        private void Write(TResult result, PooledBufferWriter answers)
        {
            try
            {
                serializer.SerializeValue(answers, result);
            }
            catch (Exception exception)
            {
                throw JobInvoker.Unserializable(job._name, typeof(TResult), exception);
            }
        }
    }
}
