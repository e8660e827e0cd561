namespace ProcessPools.Options;

/// <summary>How a pool is named in messages and logs: the default pool (registered under the empty name) is 'default'.</summary>
internal static class PoolNames
{
    public const string Default = "default";

    public static string Display(string name) => name.Length == 0 ? Default : name;
}
