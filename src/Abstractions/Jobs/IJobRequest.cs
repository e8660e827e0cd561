namespace ProcessPools;

/// <summary>
/// Marks the argument of a job class as a request whose answer is <typeparamref name="TResult"/>, so the
/// caller names neither the job class nor the result type:
/// <c>ResizeResult r = await pool.SendAsync(new ResizeRequest(...))</c> runs the job class registered
/// for <c>ResizeRequest</c> with <c>AddJob&lt;TJob&gt;()</c>.
/// </summary>
/// <typeparam name="TResult">The result of the job class that handles this request.</typeparam>
#pragma warning disable CA1040 // A marker interface: its type argument is what the compiler infers at the call site.
public interface IJobRequest<TResult>;
#pragma warning restore CA1040
