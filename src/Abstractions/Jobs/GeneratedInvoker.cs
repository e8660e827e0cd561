using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using ProcessPools.Jobs;

namespace ProcessPools.Generated;

/// <summary>
/// How a worker process calls a job that ProcessPool's source generator named: a typed delegate over the job's
/// own code, with no <c>MethodInfo.Invoke</c> and no type looked up by name. Created by generated code only.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class GeneratedInvoker
{
    private readonly Func<object?[], IServiceProvider, CancellationToken, ValueTask<object?>> _invoke;
    private readonly IUnaryForm? _unary;

    private GeneratedInvoker(Func<object?[], IServiceProvider, CancellationToken, ValueTask<object?>> invoke, bool scoped, IUnaryForm? unary)
    {
        _invoke = invoke;
        Scoped = scoped;
        _unary = unary;
    }

    private interface IUnaryForm
    {
        TOut Accept<TOut>(IGeneratedUnaryVisitor<TOut> visitor);
    }

    /// <summary>Gets whether each call needs its own dependency-injection scope (a job class, or a job that takes <see cref="IServiceProvider"/>).</summary>
    public bool Scoped { get; }

    /// <summary>An invoker of any shape: the sent arguments arrive in order, already deserialized to their declared types.</summary>
    /// <param name="invoke">Calls the job and boxes its result (<see langword="null"/> for a job without one).</param>
    public static GeneratedInvoker Create(Func<object?[], IServiceProvider, CancellationToken, ValueTask<object?>> invoke)
    {
        ArgumentNullException.ThrowIfNull(invoke);
        return new GeneratedInvoker(invoke, scoped: false, unary: null);
    }

    /// <summary>An invoker of a job that takes <see cref="IServiceProvider"/>: the worker creates a scope per call and passes its provider as <c>services</c>.</summary>
    /// <param name="invoke">Calls the job and boxes its result (<see langword="null"/> for a job without one).</param>
    public static GeneratedInvoker CreateScoped(Func<object?[], IServiceProvider, CancellationToken, ValueTask<object?>> invoke)
    {
        ArgumentNullException.ThrowIfNull(invoke);
        return new GeneratedInvoker(invoke, scoped: true, unary: null);
    }

    /// <summary>An invoker of a job of one sent argument (and optionally a token) with a result: typed end to end in a map's chunks.</summary>
    /// <param name="call">Calls the job.</param>
    public static GeneratedInvoker Unary<TArgument, TResult>(Func<TArgument, CancellationToken, ValueTask<TResult>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return new GeneratedInvoker(
            async (sent, _, cancellationToken) => await call((TArgument)sent[0]!, cancellationToken).ConfigureAwait(false),
            scoped: false,
            new UnaryForm<TArgument, TResult>(call));
    }

    /// <summary>An invoker of a job class, created from the call's scope with constructor injection.</summary>
    public static GeneratedInvoker JobClass<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TJob, TArgument, TResult>()
        where TJob : class, IProcessJob<TArgument, TResult>
        => new(
            async (sent, services, cancellationToken) =>
                await ActivatorUtilities.GetServiceOrCreateInstance<TJob>(services).ExecuteAsync((TArgument)sent[0]!, cancellationToken).ConfigureAwait(false),
            scoped: true,
            unary: null);

    /// <summary>Calls the job.</summary>
    /// <param name="sent">The sent arguments, in order.</param>
    /// <param name="services">The worker's services, or the call's scope when <see cref="Scoped"/>.</param>
    /// <param name="cancellationToken">Cancels the job.</param>
    public ValueTask<object?> InvokeAsync(object?[] sent, IServiceProvider services, CancellationToken cancellationToken)
    {
        try
        {
            return _invoke(sent, services, cancellationToken);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<object?>(exception);
        }
    }

    /// <summary>Hands the typed one-argument form to <paramref name="visitor"/>; <see langword="default"/> when the job has none.</summary>
    public TOut? AcceptUnary<TOut>(IGeneratedUnaryVisitor<TOut> visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return _unary is null ? default : _unary.Accept(visitor);
    }

    /// <summary>The task a job returned, refusing a null one with the job's name.</summary>
    public static ValueTask<TResult> Await<TResult>(Task<TResult>? task, string jobName) =>
        new(task ?? throw JobShape.NullTask(jobName));

    /// <summary>A job's task as the boxed result the worker writes back.</summary>
    public static async ValueTask<object?> Box<TResult>(Task<TResult>? task, string jobName) => await (task ?? throw JobShape.NullTask(jobName)).ConfigureAwait(false);

    /// <summary>A job's task as the boxed result the worker writes back.</summary>
    public static async ValueTask<object?> Box<TResult>(ValueTask<TResult> task) => await task.ConfigureAwait(false);

    /// <summary>A job's task as the (null) result the worker writes back.</summary>
    public static async ValueTask<object?> Box(Task? task, string jobName)
    {
        await (task ?? throw JobShape.NullTask(jobName)).ConfigureAwait(false);
        return null;
    }

    /// <summary>A job's task as the (null) result the worker writes back.</summary>
    public static async ValueTask<object?> Box(ValueTask task)
    {
        await task.ConfigureAwait(false);
        return null;
    }

    private sealed class UnaryForm<TArgument, TResult>(Func<TArgument, CancellationToken, ValueTask<TResult>> call) : IUnaryForm
    {
        public TOut Accept<TOut>(IGeneratedUnaryVisitor<TOut> visitor) => visitor.Visit(call);
    }
}

/// <summary>Receives the typed form of a one-argument generated job (see <see cref="GeneratedInvoker.AcceptUnary{TOut}"/>).</summary>
/// <typeparam name="TOut">What the visitor makes of it.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGeneratedUnaryVisitor<out TOut>
{
    /// <summary>Makes something of the job's typed call.</summary>
    TOut Visit<TArgument, TResult>(Func<TArgument, CancellationToken, ValueTask<TResult>> job);
}
