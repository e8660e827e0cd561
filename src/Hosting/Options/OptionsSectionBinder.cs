using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ProcessPools.Options;

/// <summary>
/// Binds options from a configuration section after checking what the configuration binder would report badly or not
/// at all: a key that is no setting (a misspelling, with the closest setting named), a setting that only code can give,
/// an enum value that is no name (listing the valid ones). Every message names the key's full path and what the
/// options are for. It runs when the options are first created, which <c>ValidateOnStart</c> makes the host's start.
/// The local pools and the cluster pools of ProcessPool bind through it, so their messages read alike.
/// </summary>
/// <typeparam name="TOptions">The options type.</typeparam>
public sealed class OptionsSectionBinder<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions> : IConfigureNamedOptions<TOptions>
    where TOptions : class
{
    // A setting is a property with a public setter, or a collection the options create and the binder fills
    // (ProcessPoolOptions.EnvironmentVariables: a get-only dictionary).
    private static readonly Dictionary<string, PropertyInfo> Settings = typeof(TOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true } || (p.GetMethod is { IsPublic: true } && IsCollection(p.PropertyType)))
        .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private readonly IConfiguration _section;
    private readonly Action<IConfiguration, TOptions> _bind;
    private readonly HashSet<string> _codeOnly;
    private readonly string _subject;
    private readonly string _codeHint;

    /// <summary>Creates the binder of one named instance of the options.</summary>
    /// <param name="optionsName">The options instance it binds (the empty string for the default).</param>
    /// <param name="section">The configuration section.</param>
    /// <param name="subject">What the options are for, as messages end: <c>process pool 'images'</c>.</param>
    /// <param name="bind">
    /// Binds the section once checked: <c>static (section, options) => section.Bind(options)</c>, written where the options
    /// type is known, so that the configuration binding generator can bind it without reflection.
    /// </param>
    /// <param name="codeOnly">Settings that take a type or an instance, which configuration cannot hold.</param>
    /// <param name="codeHint">Where such a setting is set instead, as messages say it: <c>AddProcessPool(..., options =&gt; options.{0} = ...)</c>.</param>
    public OptionsSectionBinder(string optionsName, IConfiguration section, string subject, Action<IConfiguration, TOptions> bind, IEnumerable<string>? codeOnly = null, string? codeHint = null)
    {
        ArgumentNullException.ThrowIfNull(optionsName);
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(bind);
        OptionsName = optionsName;
        _section = section;
        _subject = subject;
        _bind = bind;
        _codeOnly = new HashSet<string>(codeOnly ?? [], StringComparer.OrdinalIgnoreCase);
        _codeHint = codeHint ?? "code";
        SectionPath = section is IConfigurationSection named ? named.Path : string.Empty;
    }

    /// <summary>Gets the options instance it binds.</summary>
    public string OptionsName { get; }

    /// <summary>Gets the section's path, as keys are named in messages (<c>ProcessPools:Images</c>).</summary>
    public string SectionPath { get; }

    /// <summary>Binds the default instance, when this binder is for it.</summary>
    /// <param name="options">The options to bind.</param>
    public void Configure(TOptions options) => Configure(Microsoft.Extensions.Options.Options.DefaultName, options);

    /// <summary>Checks the section, then binds it, when <paramref name="name"/> is the instance this binder is for.</summary>
    /// <param name="name">The instance being created.</param>
    /// <param name="options">The options to bind.</param>
    /// <exception cref="OptionsValidationException">The section holds keys that are no settings, or values that are not valid; each is named.</exception>
    public void Configure(string? name, TOptions options)
    {
        if ((name ?? string.Empty) != OptionsName)
        {
            return;
        }

        var failures = Check().ToList();
        if (failures.Count == 0)
        {
            try
            {
                _bind(_section, options);
            }
            catch (InvalidOperationException exception)
            {
                // "Failed to convert configuration value 'many' at 'ProcessPool:Processes' to type 'System.Int32'": already names the key.
                failures.Add($"{exception.Message} ({_subject})");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(OptionsName, typeof(TOptions), failures);
        }
    }

    private IEnumerable<string> Check()
    {
        foreach (var child in _section.GetChildren())
        {
            var key = OptionsMessages.KeyPath(SectionPath, child.Key);
            if (!Settings.TryGetValue(child.Key, out var setting))
            {
                var closest = Settings.Keys.Where(s => !_codeOnly.Contains(s)).MinBy(s => Distance(s, child.Key));
                var hint = closest is not null && Distance(closest, child.Key) <= 3 ? $" Did you mean '{closest}'?" : string.Empty;
                yield return $"{key} is not a setting of {_subject}.{hint}";
                continue;
            }

            if (_codeOnly.Contains(setting.Name))
            {
                yield return $"{key} cannot be set from configuration ({_subject}): it takes a type, so set it in code, in {string.Format(System.Globalization.CultureInfo.InvariantCulture, _codeHint, setting.Name)}.";
                continue;
            }

            var type = Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType;
            if (type.IsEnum && child.Value is { Length: > 0 } value && !IsName(type, value))
            {
                yield return $"{key} is '{value}', which is not one of its values: {string.Join(", ", Enum.GetNames(type))} ({_subject}).";
            }
        }
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(type);

    // Names only: the binder would also take a number, including one that names no value.
    private static bool IsName(Type type, string value) =>
        Enum.GetNames(type).Any(n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase));

    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}

/// <summary>How ProcessPool's options messages name a setting: its full key path, and what the options are for.</summary>
public static class OptionsMessages
{
    /// <summary>The full path of a setting in messages: the section's path and the key, or the setting's name for options set in code.</summary>
    /// <param name="sectionPath">The section's path; <see langword="null"/> or empty for options set in code.</param>
    /// <param name="option">The setting.</param>
    public static string KeyPath(string? sectionPath, string option) => string.IsNullOrEmpty(sectionPath) ? option : $"{sectionPath}:{option}";

    /// <summary>
    /// The failures of a validator generated from DataAnnotations (<c>[OptionsValidator]</c>), each rewritten to name the
    /// key's full path and end with <paramref name="subject"/>: <c>ProcessPool:Processes: The field Processes must be between 1 and 1024. (process pool 'default')</c>.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="result">What the generated validator returned.</param>
    /// <param name="sectionPath">The section the options were bound from, if any.</param>
    /// <param name="subject">What the options are for.</param>
    /// <param name="optionsName">The options instance validated: the generator names a member of a named instance after it.</param>
    public static IReadOnlyList<string> DescribeFailures<TOptions>(ValidateOptionsResult result, string? sectionPath, string subject, string? optionsName = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.Failed || result.Failures is null)
        {
            return [];
        }

        // "Processes: The field ProcessPoolOptions.Processes must be between 1 and 1024." (older generators:
        // "DataAnnotation validation failed for 'ProcessPoolOptions' members: 'Processes' with the error: '...'.")
        return [.. result.Failures.Select(failure =>
        {
            var match = GeneratedFailures.Pattern().Match(failure);
            var error = match.Groups["error"].Value.Replace($"{typeof(TOptions).Name}.", string.Empty, StringComparison.Ordinal);
            if (!string.IsNullOrEmpty(optionsName))
            {
                error = error.Replace($" {optionsName}.", " ", StringComparison.Ordinal);
            }

            return match.Success ? $"{KeyPath(sectionPath, match.Groups["member"].Value)}: {error} ({subject})" : $"{failure} ({subject})";
        })];
    }
}

/// <summary>The shapes of a generated options validator's messages.</summary>
internal static partial class GeneratedFailures
{
    [GeneratedRegex(@"^(?<member>\w+): (?<error>.*)$|members: '(?<member>\w+)' with the error: '(?<error>.*)'\.?$", RegexOptions.Singleline)]
    public static partial Regex Pattern();
}
