using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using ProcessPools.Channels;
using ProcessPools.Jobs;
using ProcessPools.Protocol;

namespace ProcessPools.Worker.Execution;

/// <summary>
/// A job of one sent argument (and optionally a cancellation token) returning <c>Task&lt;T&gt;</c> or
/// <c>ValueTask&lt;T&gt;</c>, called through a typed delegate: no argument arrays, no boxing, no reflection per item.
/// </summary>
internal abstract class TypedJob
{
    /// <summary>The typed form of a job named by reflection, or null when its shape needs the general path.</summary>
    [RequiresDynamicCode("Makes TypedJob<TArg, TResult> for types known at run time.")]
    [RequiresUnreferencedCode("Creates delegates over a method found by reflection.")]
    public static TypedJob? TryCreate(string name, MethodInfo method, object? instance, Type? jobType)
    {
        var parameters = method.GetParameters();
        var returnType = method.ReturnType;
        if (jobType is not null || !returnType.IsGenericType || parameters.Length is 0 or > 2
            || (parameters.Length == 2 && parameters[1].ParameterType != typeof(CancellationToken))
            || JobShape.IsBoundInChild(parameters[0].ParameterType) || JobShape.ProgressValueType(parameters[0].ParameterType) is not null
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
            var create = typed.GetMethod(nameof(TypedJob<int, int>.FromMethod), BindingFlags.Public | BindingFlags.Static)!;
            return (TypedJob)create.Invoke(null, BindingFlags.DoNotWrapExceptions, binder: null, [name, method, instance, parameters.Length == 2, definition == typeof(ValueTask<>)], culture: null)!;
        }
        catch (Exception exception) when (exception is ArgumentException or TargetInvocationException or NotSupportedException)
        {
            return null; // a shape no typed delegate fits (the general path runs it)
        }
    }

    public abstract ChunkItems CreateItems(IJobSerializer serializer, int count);
}

internal sealed class TypedJob<TArg, TResult> : TypedJob
{
    private readonly string _name;
    private readonly Func<TArg, CancellationToken, ValueTask<TResult>> _call;

    public TypedJob(string name, Func<TArg, CancellationToken, ValueTask<TResult>> call)
    {
        _name = name;
        _call = call;
    }

    /// <summary>The typed form of a job method found by reflection.</summary>
    public static TypedJob<TArg, TResult> FromMethod(string name, MethodInfo method, object? instance, bool takesToken, bool returnsValueTask)
    {
        var call = (takesToken, returnsValueTask) switch
        {
            (false, false) => Wrap(method.CreateDelegate<Func<TArg, Task<TResult>>>(instance)),
            (true, false) => Wrap(method.CreateDelegate<Func<TArg, CancellationToken, Task<TResult>>>(instance)),
            (false, true) => Wrap(method.CreateDelegate<Func<TArg, ValueTask<TResult>>>(instance)),
            (true, true) => method.CreateDelegate<Func<TArg, CancellationToken, ValueTask<TResult>>>(instance),
        };
        return new TypedJob<TArg, TResult>(name, call);

        Func<TArg, CancellationToken, ValueTask<TResult>> Wrap(Delegate job) => job switch
        {
            Func<TArg, Task<TResult>> task => (argument, _) => new ValueTask<TResult>(task(argument) ?? throw JobShape.NullTask(name)),
            Func<TArg, CancellationToken, Task<TResult>> task => (argument, token) => new ValueTask<TResult>(task(argument, token) ?? throw JobShape.NullTask(name)),
            Func<TArg, ValueTask<TResult>> valueTask => (argument, _) => valueTask(argument),
            _ => throw new ArgumentException("Not a job delegate.", nameof(job)),
        };
    }

    public override ChunkItems CreateItems(IJobSerializer serializer, int count) =>
        ValueCodec.Json(serializer) is { } json
            ? new Items<JsonCodec<TArg>, JsonCodec<TResult>>(this, new(json), new(json), count)
            : new Items<DelegateReader<TArg>, DelegateWriter<TResult>>(this, new(serializer.Deserialize<TArg>), new(serializer.Serialize), count);

    /// <summary>A chunk's items, compiled for the serializer's calls (see <see cref="IValueWriter{T}"/>).</summary>
    private sealed class Items<TReader, TWriter>(TypedJob<TArg, TResult> job, TReader reader, TWriter writer, int count) : ChunkItems(count)
        where TReader : struct, IValueReader<TArg>
        where TWriter : struct, IValueWriter<TResult>
    {
        private readonly TArg[] _arguments = new TArg[count];

        public override void Read(int index, ref PayloadCursor item)
        {
            _arguments[index] = reader.Read(InvokePayload.ReadArgument(ref item, job._name));
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
                writer.Write(answers, result);
            }
            catch (Exception exception)
            {
                throw JobInvoker.Unserializable(job._name, typeof(TResult), exception);
            }
            finally
            {
                JobInvoker.Release(result);
            }
        }
    }
}
