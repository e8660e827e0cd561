namespace ProcessPools.IntegrationTests;

/// <summary>
/// A test that needs Linux: signals sent with <c>kill</c>, <c>/proc</c>, exit codes of 128 + signal. It runs
/// wherever CI runs (Linux) and is skipped, saying why, on other systems.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(
        [System.Runtime.CompilerServices.CallerFilePath] string? sourceFilePath = null,
        [System.Runtime.CompilerServices.CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only: signals and /proc.";
        }
    }
}

/// <summary>The <see cref="TheoryAttribute"/> counterpart of <see cref="LinuxFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute(
        [System.Runtime.CompilerServices.CallerFilePath] string? sourceFilePath = null,
        [System.Runtime.CompilerServices.CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Linux only: signals and /proc.";
        }
    }
}
