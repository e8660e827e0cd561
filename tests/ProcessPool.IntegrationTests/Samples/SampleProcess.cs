using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace ProcessPools.IntegrationTests;

/// <summary>
/// One of the samples, run as the real application it is (<c>dotnet Sample.dll</c>, built by the test
/// project's build), with its console output readable line by line.
/// </summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _seen = [];

    private SampleProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Everything the sample wrote so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_seen)
            {
                return string.Join(Environment.NewLine, _seen);
            }
        }
    }

    public static SampleProcess Start(string project, params string[] arguments) => StartIn("samples", project, arguments);

    /// <summary>Runs a sample with more environment variables (its workers inherit them).</summary>
    public static SampleProcess StartWith(IReadOnlyDictionary<string, string> environment, string project, params string[] arguments) =>
        StartIn("samples", project, arguments, environment);

    /// <summary>The repository's root: the folder of Hosting.sln, above the test output.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Hosting.sln")))
            {
                root = root.Parent;
            }

            return root?.FullName ?? throw new InvalidOperationException("Hosting.sln not found above the test output.");
        }
    }

    /// <summary>Runs a project of the repository (built by the test project's build) as its own process, from its folder.</summary>
    public static SampleProcess StartIn(string folder, string project, params string[] arguments) => StartIn(folder, project, arguments, null);

    private static SampleProcess StartIn(string folder, string project, string[] arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testOutput.Parent!.Name; // bin/<configuration>/<tfm>/
        var projectDirectory = Path.Combine(RepositoryRoot, folder, project);
        var assembly = Path.Combine(projectDirectory, "bin", configuration, testOutput.Name, project + ".dll");
        Assert.True(File.Exists(assembly), $"{assembly} is missing: the test project's build should have built it.");

        // The content root is the project's folder: the sample's own appsettings.json. The pool's debug lines name each
        // ready worker's pid: how a test finds the sample's workers on every OS (WorkerProcessIds).
        return StartProgram("dotnet", [assembly, .. arguments, $"--Logging:LogLevel:{PoolLogCategory}=Debug"], projectDirectory, environment);
    }

    /// <summary>Runs a program (a published application's executable, or dotnet with its arguments), its output gathered.</summary>
    public static SampleProcess StartProgram(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var sample = new SampleProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        sample._process.OutputDataReceived += (_, e) => sample.OnLine(e.Data);
        sample._process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data);
        sample._process.Start();
        sample._process.BeginOutputReadLine();
        sample._process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>Waits for a line matching the pattern and returns the match.</summary>
    public async Task<Match> WaitForLineAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(deadline.Token))
            {
                if (regex.Match(line) is { Success: true } match)
                {
                    return match;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new Xunit.Sdk.XunitException($"No line matched '{pattern}' within {timeout}. Output:{Environment.NewLine}{Output}");
    }

    /// <summary>The pool's log category, whose debug line "worker N (pid P) is ready." names each worker.</summary>
    private const string PoolLogCategory = "ProcessPools.ProcessPool";

    /// <summary>
    /// The sample's worker processes, as its pools reported them ready in its log (portable: no /proc, no process list).
    /// A worker replaced since would show too; the tests read them while the first workers run.
    /// </summary>
    public IReadOnlyList<int> WorkerProcessIds() =>
        [.. Regex.Matches(Output, @"worker \d+ \(pid (\d+)\) is ready\.").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct()];

    /// <summary>Sends SIGTERM, what a service manager sends to stop an application.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"The sample did not exit within {timeout}. Output:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>
    /// Whether a process that is not our child has exited. An orphan's exit leaves a zombie until its new
    /// parent reaps it, and in a container nobody may: a zombie has exited, though <c>kill(pid, 0)</c> says it is there.
    /// </summary>
    public static bool HasExited(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return process.HasExited;
            }
            catch (ArgumentException)
            {
                return true; // no such process
            }
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return true;
        }
    }

    /// <summary>Waits until a process that is not our child has exited. There is no exit event for those, so it is checked every 20 ms.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!HasExited(pid))
        {
            try
            {
                await tick.WaitForNextTickAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                return HasExited(pid);
            }
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_seen)
        {
            _seen.Add(line);
        }

        _lines.Writer.TryWrite(line);
    }
}
