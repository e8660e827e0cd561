using Microsoft.Extensions.Options;
using ProcessPools.Options;

namespace ProcessPools.Orleans.Options;

/// <summary>The range checks of <see cref="ClusterProcessPoolOptions"/>, generated from its attributes.</summary>
[OptionsValidator]
internal sealed partial class ClusterProcessPoolOptionsValidator : IValidateOptions<ClusterProcessPoolOptions>;

/// <summary>
/// Validates a cluster pool's options at host start: the generated range checks and the time ranges, each message naming
/// the full key path (<c>ClusterProcessPool:MaxRetries</c> for options bound from configuration, the option's name for
/// options set in code) and the pool, in the words of a local pool's messages.
/// </summary>
/// <param name="binders">The configuration binders of the cluster pools bound from a section, for their key paths.</param>
internal sealed class ClusterProcessPoolOptionsValidation(IEnumerable<IConfigureOptions<ClusterProcessPoolOptions>> binders) : IValidateOptions<ClusterProcessPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterProcessPoolOptions options)
    {
        name ??= Microsoft.Extensions.Options.Options.DefaultName;
        var section = binders.OfType<OptionsSectionBinder<ClusterProcessPoolOptions>>().LastOrDefault(b => b.OptionsName == name)?.SectionPath;
        var subject = Subject(name);
        string Key(string option) => OptionsMessages.KeyPath(section, option);

        var failures = new List<string>(OptionsMessages.DescribeFailures<ClusterProcessPoolOptions>(new ClusterProcessPoolOptionsValidator().Validate(name, options), section, subject, name));
        if (options.JobTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            failures.Add($"{Key(nameof(options.JobTimeout))} ({timeout}) must be positive, or unset for none ({subject}).");
        }

        if (options.SiloWaitTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Key(nameof(options.SiloWaitTimeout))} ({options.SiloWaitTimeout}) must be positive ({subject}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>What a cluster pool's options are for, as messages end.</summary>
    public static string Subject(string name) => $"cluster pool '{(name.Length == 0 ? ProcessPoolDiagnostics.DefaultPoolName : name)}'";
}
