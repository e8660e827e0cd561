using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using ProcessPools.Generated;

namespace ProcessPools.Options;

/// <summary>The range checks of <see cref="ProcessPoolOptions"/>, generated from its attributes.</summary>
[OptionsValidator]
internal sealed partial class ProcessPoolOptionsValidator : IValidateOptions<ProcessPoolOptions>;

/// <summary>
/// Validates a pool's options: the generated range checks and the rules that span several options, with each
/// message naming the full key path (<c>ProcessPools:Images:QueueCount</c> for options bound from
/// configuration, the option's name for options set in code) and the pool.
/// </summary>
/// <param name="binders">The configuration binders of the pools bound from a section, for their key paths.</param>
internal sealed class ProcessPoolOptionsValidation(IEnumerable<IConfigureOptions<ProcessPoolOptions>> binders) : IValidateOptions<ProcessPoolOptions>
{
    /// <summary>The smallest <see cref="ProcessPoolOptions.SharedMemoryThreshold"/>: one page.</summary>
    public const int MinimumSharedMemoryThreshold = 4096;

    public ValidateOptionsResult Validate(string? name, ProcessPoolOptions options)
    {
        name ??= Microsoft.Extensions.Options.Options.DefaultName;
        var section = binders.OfType<OptionsSectionBinder<ProcessPoolOptions>>().LastOrDefault(b => b.OptionsName == name)?.SectionPath;
        var failures = Check(name, options, section);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Validates options built in code (no host): the same rules as at host start.</summary>
    /// <exception cref="OptionsValidationException">A rule is broken; the message names each option.</exception>
    public static void ThrowIfInvalid(string name, ProcessPoolOptions options)
    {
        var failures = Check(name, options, section: null);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(name, typeof(ProcessPoolOptions), failures);
        }
    }

    private static List<string> Check(string name, ProcessPoolOptions options, string? section)
    {
        var pool = PoolNames.Subject(name);
        string Key(string option) => OptionsMessages.KeyPath(section, option);

        var failures = new List<string>();
        failures.AddRange(OptionsMessages.DescribeFailures<ProcessPoolOptions>(new ProcessPoolOptionsValidator().Validate(name, options), section, pool, name));

        // The time ranges are checked here, not by [Range(typeof(TimeSpan), ...)], whose converter lookup trimming breaks.
        TimeRange(nameof(options.JobTimeout), options.JobTimeout, "00:00:00.001", "10675199.00:00:00");
        TimeRange(nameof(options.CancellationGracePeriod), options.CancellationGracePeriod, "00:00:00", "1.00:00:00");
        TimeRange(nameof(options.HeartbeatInterval), options.HeartbeatInterval, "00:00:00.100", "01:00:00");
        TimeRange(nameof(options.HeartbeatTimeout), options.HeartbeatTimeout, "00:00:01", "1.00:00:00");
        TimeRange(nameof(options.StartTimeout), options.StartTimeout, "00:00:00.001", "01:00:00");
        TimeRange(nameof(options.ShutdownTimeout), options.ShutdownTimeout, "00:00:00", "1.00:00:00");
        TimeRange(nameof(options.WaitForDebugger), options.WaitForDebugger, "00:00:00.001", "01:00:00");

        // Only against a valid Processes: "Processes: 0" is one mistake, not also a QueueCount that exceeds it.
        if (options.Processes >= 1 && options.QueueCount > options.Processes)
        {
            failures.Add($"{Key(nameof(options.QueueCount))} ({options.QueueCount}) must not exceed {Key(nameof(options.Processes))} ({options.Processes}): a queue without a worker would never run its jobs ({pool}).");
        }

        if (options.HeartbeatTimeout < 2 * options.HeartbeatInterval)
        {
            failures.Add($"{Key(nameof(options.HeartbeatTimeout))} ({options.HeartbeatTimeout}) must be at least twice {Key(nameof(options.HeartbeatInterval))} ({options.HeartbeatInterval}), or one late answer would kill a healthy worker ({pool}).");
        }

        if (options.SharedMemoryThreshold is { } threshold && (threshold < MinimumSharedMemoryThreshold || threshold > options.MaxMessageSize))
        {
            failures.Add($"{Key(nameof(options.SharedMemoryThreshold))} ({threshold}) must be between {MinimumSharedMemoryThreshold} and {Key(nameof(options.MaxMessageSize))} ({options.MaxMessageSize}): smaller messages cost less through the pipe than a segment, larger ones are refused ({pool}).");
        }

        if (options.Serializer is null)
        {
            failures.Add($"{Key(nameof(options.Serializer))} must be set ({pool}).");
        }
        else if (SerializerProblem(options.Serializer) is { } problem)
        {
            failures.Add($"{Key(nameof(options.Serializer))}: {problem} ({pool}).");
        }

        return failures;

        void TimeRange(string option, TimeSpan? value, string minimum, string maximum)
        {
            if (value is { } time && (time < TimeSpan.Parse(minimum, CultureInfo.InvariantCulture) || time > TimeSpan.Parse(maximum, CultureInfo.InvariantCulture)))
            {
                failures.Add($"{Key(option)}: The field {option} must be between {minimum} and {maximum}. ({pool})");
            }
        }
    }

    /// <summary>Why a worker could not create the same serializer, or null when it can.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Reached only where dynamic code is supported; with Native AOT a serializer must be in the compile-time registry, which keeps its constructor.")]
    private static string? SerializerProblem(IJobSerializer serializer)
    {
        var type = serializer.GetType();
        if (serializer is JsonJobSerializer { HasMetadata: false })
        {
            return $"{type} has no JSON metadata: reflection-based serialization is off in this trimmed or Native AOT application. Derive a serializer from JsonJobSerializer " +
                "whose parameterless constructor passes a JsonSerializerContext listing every argument and result type, and set it here";
        }

        if (GeneratedRegistry.IsSerializerRegistered(type))
        {
            return null;
        }

        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            return $"{type} is not in the compile-time registry, so a Native AOT worker cannot create it. Declare it in an assembly that references ProcessPool (the source generator registers " +
                "each IJobSerializer class with a public parameterless constructor)";
        }

        return type.GetConstructor(Type.EmptyTypes) is null ? $"{type} needs a public parameterless constructor, so the worker process can create the same serializer" : null;
    }
}
