using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ProcessPools.Options;

/// <summary>
/// Binds a pool's options from its configuration section, after checking what the binder would report badly or
/// not at all: a key that is no setting (a misspelling), an enum value that is no name (listing the valid
/// ones). Every message names the full key path and the pool. Runs when the options are first created,
/// which <c>ValidateOnStart</c> makes the host's start.
/// </summary>
internal sealed class ProcessPoolConfigurationBinder(string poolName, IConfiguration section) : IConfigureNamedOptions<ProcessPoolOptions>
{
    private static readonly Dictionary<string, PropertyInfo> Settings = typeof(ProcessPoolOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Settings that take a type or an instance, which configuration cannot hold.</summary>
    private static readonly HashSet<string> CodeOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        nameof(ProcessPoolOptions.Serializer),
        nameof(ProcessPoolOptions.SchedulerFactory),
    };

    /// <summary>The pool these options are for.</summary>
    public string PoolName => poolName;

    /// <summary>The section's path, as keys are named in messages (<c>ProcessPools:Images</c>).</summary>
    public string SectionPath { get; } = section is IConfigurationSection named ? named.Path : string.Empty;

    public void Configure(ProcessPoolOptions options) => Configure(Microsoft.Extensions.Options.Options.DefaultName, options);

    public void Configure(string? name, ProcessPoolOptions options)
    {
        if ((name ?? string.Empty) != poolName)
        {
            return;
        }

        var failures = Check().ToList();
        if (failures.Count == 0)
        {
            try
            {
                // Bound by the configuration binding generator (no reflection). Its SYSLIB1100/1101 for Serializer (an
                // interface) are silenced in the project: a code-only setting, refused by Check() above before binding.
                section.Bind(options);
            }
            catch (InvalidOperationException exception)
            {
                // "Failed to convert configuration value 'many' at 'ProcessPool:Processes' to type 'System.Int32'": already names the key.
                failures.Add($"{exception.Message} ({Describe()})");
            }
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(poolName, typeof(ProcessPoolOptions), failures);
        }
    }

    private IEnumerable<string> Check()
    {
        foreach (var child in section.GetChildren())
        {
            var key = KeyPath(child.Key);
            if (!Settings.TryGetValue(child.Key, out var setting))
            {
                var closest = Settings.Keys.Where(s => !CodeOnly.Contains(s)).MinBy(s => Distance(s, child.Key));
                var hint = closest is not null && Distance(closest, child.Key) <= 3 ? $" Did you mean '{closest}'?" : string.Empty;
                yield return $"{key} is not a setting of {Describe()}.{hint}";
                continue;
            }

            if (CodeOnly.Contains(setting.Name))
            {
                yield return $"{key} cannot be set from configuration ({Describe()}): it takes a type, so set it in code, in AddProcessPool(..., options => options.{setting.Name} = ...).";
                continue;
            }

            var type = Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType;
            if (type.IsEnum && child.Value is { Length: > 0 } value && !IsName(type, value))
            {
                yield return $"{key} is '{value}', which is not one of its values: {string.Join(", ", Enum.GetNames(type))} ({Describe()}).";
            }
        }
    }

    private string KeyPath(string key) => SectionPath.Length == 0 ? key : $"{SectionPath}:{key}";

    private string Describe() => $"process pool '{PoolNames.Display(poolName)}'";

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
