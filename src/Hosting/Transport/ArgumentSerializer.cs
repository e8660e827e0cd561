using ProcessPools.Channels;
using ProcessPools.Jobs;
using ProcessPools.Protocol;

namespace ProcessPools.Transport;

/// <summary>
/// Checks a call's arguments against the job's parameters and serializes them into the invoke layout
/// (<see cref="InvokePayload"/>), at the call site, so that a bad argument fails there and nothing half-made is sent:
/// for a local pool's jobs and for a transport's (<see cref="JobPayloads"/>).
/// </summary>
internal sealed class ArgumentSerializer(IJobSerializer serializer, int maxMessageSize)
{
    /// <summary>
    /// Appends the one argument of a one-argument job from its value, through the serializer's generic member
    /// (<paramref name="serialize"/>, chosen once by the caller, see <see cref="IValueWriter{T}"/>): the bytes
    /// <see cref="WriteArguments"/> writes for <c>[item]</c>, without an array or a box.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the map's parameter, where the item came from.")]
    public static void WriteValue<TItem, TWriter>(TWriter serialize, JobTarget target, TItem item, PooledBufferWriter buffer)
        where TWriter : struct, IValueWriter<TItem>
    {
        var at = InvokePayload.BeginArgument(buffer);
        try
        {
            serialize.Write(buffer, item);
        }
        catch (Exception exception)
        {
            throw new ArgumentException($"Argument 1 of job '{target.Name}' ({typeof(TItem)}) cannot be serialized: {exception.Message}", "items", exception);
        }

        InvokePayload.EndArgument(buffer, at);
    }

    /// <summary>Appends each argument; returns the caller's progress sink, if the job takes one.</summary>
    public object? WriteArguments(JobTarget target, object?[] arguments, PooledBufferWriter buffer)
    {
        var types = target.ParameterTypes;
        if (arguments.Length != types.Count)
        {
            throw new ArgumentException($"Job '{target.Name}' takes {types.Count} arguments; {arguments.Length} were given.", nameof(arguments));
        }

        object? progress = null;
        var takesProgress = target.ProgressType is not null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            var type = types[i];
            if (argument is null ? type.IsValueType && Nullable.GetUnderlyingType(type) is null : argument.GetType() != type && !type.IsInstanceOfType(argument))
            {
                throw new ArgumentException($"Argument {i + 1} of job '{target.Name}' must be {type}; it is {argument?.GetType().ToString() ?? "null"}.", nameof(arguments));
            }

            if (takesProgress && JobShape.ProgressValueType(type) is not null)
            {
                // The caller's sink stays here; the worker learns only whether there is one.
                progress = argument;
                InvokePayload.WriteProgressArgument(buffer, connected: argument is not null);
                continue;
            }

            var at = InvokePayload.BeginArgument(buffer);
            try
            {
                serializer.Serialize(buffer, argument, type);
            }
            catch (Exception exception)
            {
                throw new ArgumentException($"Argument {i + 1} of job '{target.Name}' ({type}) cannot be serialized: {exception.Message}", nameof(arguments), exception);
            }

            InvokePayload.EndArgument(buffer, at);
        }

        return progress;
    }

    /// <summary>Refuses arguments of <paramref name="length"/> bytes that a frame could not carry.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2208", Justification = "Names the caller's parameter.")]
    public void ThrowIfTooLarge(JobTarget target, int length)
    {
        // The frame carries the target number in front of these bytes.
        if (length + sizeof(int) > maxMessageSize)
        {
            throw new ArgumentException(
                $"The arguments of job '{target.Name}' serialize to {length} bytes, over the channel's limit of {maxMessageSize} bytes (MaxMessageSize).",
                "arguments");
        }
    }
}
