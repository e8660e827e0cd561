namespace ProcessPools.Dispatch;

/// <summary>Calls <see cref="IProgress{T}.Report"/> for a <c>T</c> known at run time, through a delegate made once per type.</summary>
internal static class ProgressReporters
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Action<object, object?>> Reporters = new();

    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode("Makes Report<T> for a T known at run time.")]
    public static Action<object, object?> For(Type valueType) => Reporters.GetOrAdd(valueType, static type =>
        typeof(ProgressReporters).GetMethod(nameof(Report), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type).CreateDelegate<Action<object, object?>>());

    private static void Report<T>(object sink, object? value) => ((IProgress<T>)sink).Report((T)value!);
}
