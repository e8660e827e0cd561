namespace ProcessPools.IntegrationTests;

/// <summary>
/// A test whose subject only Linux has (a stranger opening a worker's pipe through <c>/proc/&lt;pid&gt;/fd</c>). It runs
/// on Linux and is skipped, saying why, on other systems.
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
            Skip = "Linux only: the subject is /proc.";
        }
    }
}

/// <summary>
/// A test whose subject is a POSIX signal (SIGTERM from a service manager, SIGSTOP freezing a worker): it runs on Linux
/// and macOS and is skipped, saying why, on Windows, which has no signals to send.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute(
        [System.Runtime.CompilerServices.CallerFilePath] string? sourceFilePath = null,
        [System.Runtime.CompilerServices.CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix only: the subject is a POSIX signal.";
        }
    }
}
