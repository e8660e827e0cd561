namespace ProcessPools.Options;

/// <summary>How a pool is named in messages and logs: the default pool (registered under the empty name) is 'default'.</summary>
internal static class PoolNames
{
    public const string Default = ProcessPoolDiagnostics.DefaultPoolName;

    public static string Display(string name) => name.Length == 0 ? Default : name;

    /// <summary>What a pool's options are for, as messages end.</summary>
    public static string Subject(string name) => $"process pool '{Display(name)}'";
}
