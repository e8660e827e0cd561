using Microsoft.Extensions.Options;

namespace ProcessPools.Options;

/// <summary>The range checks of <see cref="ProcessPoolOptions"/>, generated from its attributes.</summary>
[OptionsValidator]
internal sealed partial class ProcessPoolOptionsValidator : IValidateOptions<ProcessPoolOptions>;

/// <summary>The rules that span several options, and the serializer the child must be able to create.</summary>
internal sealed class ProcessPoolOptionsCrossValidator : IValidateOptions<ProcessPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, ProcessPoolOptions options)
    {
        var failures = new List<string>();
        if (options.QueueCount > options.Processes)
        {
            failures.Add($"QueueCount ({options.QueueCount}) must not exceed Processes ({options.Processes}): a queue without a worker would never run its jobs.");
        }

        if (options.HeartbeatTimeout < 2 * options.HeartbeatInterval)
        {
            failures.Add($"HeartbeatTimeout ({options.HeartbeatTimeout}) must be at least twice HeartbeatInterval ({options.HeartbeatInterval}), or one late answer would kill a healthy worker.");
        }

        if (options.Serializer is null)
        {
            failures.Add("Serializer must be set.");
        }
        else if (options.Serializer.GetType().GetConstructor(Type.EmptyTypes) is null)
        {
            failures.Add($"Serializer: {options.Serializer.GetType()} needs a public parameterless constructor, so the worker process can create the same serializer.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class ProcessPoolOptionsValidation
{
    /// <summary>Validates options built in code (no host): the same rules as at host start.</summary>
    public static void ThrowIfInvalid(string name, ProcessPoolOptions options)
    {
        var failures = new List<string>();
        foreach (var validator in new IValidateOptions<ProcessPoolOptions>[] { new ProcessPoolOptionsValidator(), new ProcessPoolOptionsCrossValidator() })
        {
            var result = validator.Validate(name, options);
            if (result.Failed)
            {
                failures.AddRange(result.Failures);
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(name, typeof(ProcessPoolOptions), failures);
        }
    }
}
