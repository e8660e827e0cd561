using System.Globalization;
using System.Runtime.InteropServices;
using ProcessPools.Benchmarks;

// A worker of the pools below, when this program was launched as one (a Native AOT build runs its workers so).
if (ProcessPools.Worker.WorkerEntryPoint.IsWorkerProcess)
{
    return await ProcessPools.Worker.WorkerEntryPoint.RunAsync();
}

// The transport floor's echo child is this program too.
if (TransportFloor.IsEchoChild)
{
    return TransportFloor.RunEcho();
}

// A pool host whose SIGKILL the crash workload times.
if (CrashProbe.IsPoolHost)
{
    return await CrashProbe.RunPoolHostAsync();
}

// dotnet run -c Release --project bench/ProcessPool.Benchmarks [-- --quick] [--out DIR] [--only round-trip,map,...] [--payload-sizes 1M,64M]
// or, ReadyToRun: dotnet publish bench/ProcessPool.Benchmarks -c Release -o bench/out && dotnet bench/out/ProcessPool.Benchmarks.dll [...]
var quick = args.Contains("--quick");
var output = Argument("--out") ?? Path.Combine("bench", "results");
var only = (Argument("--only") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
var sizes = (quick ? Sizes.Quick : Sizes.Full) with { Payloads = Argument("--payload-sizes")?.Split(',').Select(ParseSize).ToArray() };

var machine = string.Create(CultureInfo.InvariantCulture,
    $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {Compilation()}, {DateTimeOffset.UtcNow:yyyy-MM-dd}{(quick ? ", quick sizes" : string.Empty)}");
Console.WriteLine($"ProcessPool benchmarks: {machine}");
var workloads = new Workloads(sizes, Console.WriteLine);
await workloads.RunAsync(only);

Directory.CreateDirectory(output);
var markdown = Report.Markdown(workloads.Rows, $"Measured on {machine}. Baselines ran in the same process, in the same run.");
await File.WriteAllTextAsync(Path.Combine(output, "results.md"), markdown);
await File.WriteAllTextAsync(Path.Combine(output, "results.json"), Report.Json(workloads.Rows, machine));
await File.WriteAllTextAsync(Path.Combine(output, "results.svg"), Report.Svg(workloads.Rows, $"ProcessPool against its targets ({machine})"));
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"Written to {Path.GetFullPath(output)}: results.md, results.json, results.svg");
return 0;

// A size such as 4096, 64K or 256M (powers of 1024).
static int ParseSize(string text) => text[^1] switch
{
    'K' or 'k' => int.Parse(text[..^1], CultureInfo.InvariantCulture) << 10,
    'M' or 'm' => int.Parse(text[..^1], CultureInfo.InvariantCulture) << 20,
    _ => int.Parse(text, CultureInfo.InvariantCulture),
};

// Whether the bench's own assemblies were compiled ahead of time (published ReadyToRun) or are JIT-compiled at start:
// the main difference in a worker's start-up. ProcessPool.Hosting is read, not Microsoft.Extensions.Hosting, whose
// NuGet package ships precompiled code in every build (it made every `dotnet build` read "ReadyToRun").
static string Compilation()
{
    if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
    {
        return "Native AOT build";
    }

    using var assembly = File.OpenRead(typeof(ProcessPools.ProcessPool).Assembly.Location);
    using var reader = new System.Reflection.PortableExecutable.PEReader(assembly);
    return reader.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0 ? "ReadyToRun build" : "JIT build";
}

string? Argument(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
