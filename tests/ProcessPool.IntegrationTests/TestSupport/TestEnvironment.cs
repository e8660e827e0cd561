namespace ProcessPools.IntegrationTests;

/// <summary>What a test needs from the machine beyond the .NET SDK.</summary>
public static class TestEnvironment
{
    /// <summary>
    /// On a developer's machine without a tool a test needs (a browser, a receiver published for another OS), the test
    /// is skipped with the reason and how to get the tool; in CI (CI=true, as .ci/run and the workflow set), where the
    /// tool is installed, its absence fails the test: nothing is skipped there.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void SkipUnlessCI(string reason)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"In CI, {reason}.");
        }

        Assert.Skip($"Not on this machine: {reason}.");
    }
}
