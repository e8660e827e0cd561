namespace ProcessPools.Worker.Execution;

/// <summary>The application's <see cref="IJobExceptionHandler"/>s, told of each failed job before its caller is answered.</summary>
internal sealed class JobExceptionHandlers(IJobExceptionHandler[] handlers, CancellationToken parentGone)
{
    public async ValueTask NotifyAsync(string jobName, IReadOnlyList<object?> arguments, Exception exception)
    {
        if (handlers.Length == 0)
        {
            return;
        }

        var context = new JobExceptionContext(jobName, exception, arguments);
        foreach (var handler in handlers)
        {
            try
            {
                await handler.OnJobFailedAsync(context, parentGone).ConfigureAwait(false);
            }
            catch (Exception handlerFailure)
            {
                // The caller gets the job's own exception either way; the handler's is only worth a line on stderr.
                await Console.Error.WriteLineAsync(
                    $"ProcessPool worker {Environment.ProcessId}: exception handler {handlerFailure.GetType()} failed for job '{jobName}': {handlerFailure.Message}").ConfigureAwait(false);
            }
        }
    }
}
