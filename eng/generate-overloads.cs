// Writes the arity overloads of ApplyAsync, Map and StarMap (src/Abstractions/ProcessPoolExtensions.Overloads.g.cs)
// and of WorkerProcess.StartAsync (src/Hosting/WorkerProcess.Overloads.g.cs). They differ only in delegate
// shape, so they are generated rather than typed 180 times.
//
//   dotnet run eng/generate-overloads.cs            rewrites the files (run from the repository root)
//   dotnet run eng/generate-overloads.cs -- --check fails when the committed files differ from what it writes (CI)
using System.Text;

var check = args.Contains("--check");
var root = Directory.GetCurrentDirectory();
var outputs = new (string Path, string Text)[]
{
    ("src/Abstractions/ProcessPoolExtensions.Overloads.g.cs", PoolOverloads()),
    ("src/Hosting/WorkerProcess.Overloads.g.cs", WorkerProcessOverloads()),
};

var stale = 0;
foreach (var (path, text) in outputs)
{
    var full = Path.Combine(root, path);
    var current = File.Exists(full) ? File.ReadAllText(full) : null;
    if (current == text)
    {
        Console.WriteLine($"{path}: up to date");
        continue;
    }

    if (check)
    {
        Console.Error.WriteLine($"{path} differs from what eng/generate-overloads.cs writes: run 'dotnet run eng/generate-overloads.cs' and commit the result.");
        stale++;
        continue;
    }

    File.WriteAllText(full, text);
    Console.WriteLine($"{path}: written ({text.Count(c => c == '\n')} lines)");
}

return stale == 0 ? 0 : 1;

static string PoolOverloads()
{
    var lines = Header("ProcessPoolExtensions", "public static partial class ProcessPoolExtensions");
    for (var n = 0; n <= 4; n++)
    {
        var inputs = Inputs(n);
        foreach (var bound in Bound)
        {
            foreach (var (ret, result) in Returns)
            {
                var outType = result is null ? "Task" : $"Task<{result}>";
                var call = result is null ? "ApplyVoid" : $"Apply<{result}>";
                lines.AddRange(Doc($"Runs <paramref name=\"job\"/> once in a worker process and returns {(result is null ? "when it has completed." : "its result.")}", bound));
                lines.AddRange(ArgumentDocs(n));
                lines.Add("    /// <param name=\"cancellationToken\">Cancels the job, in the queue or in the child.</param>");
                var parameters = string.Join(", ", new[] { "this IProcessPool pool", $"{Func(inputs, bound, ret)} job" }
                    .Concat(inputs.Select((t, i) => $"{t} arg{i + 1}"))
                    .Append("CancellationToken cancellationToken = default"));
                lines.AddRange(ReflectionPath);
                lines.Add($"    public static {outType} ApplyAsync{TypeParameters(n, result)}({parameters})");
                lines.Add($"        => GeneratedCalls.{call}(pool, Target(job), {ArgumentArray(n)}, cancellationToken);");
                lines.Add(string.Empty);
            }
        }
    }

    // Map: one argument per item; StarMap: a tuple of 2 to 4 arguments per item.
    for (var n = 1; n <= 4; n++)
    {
        var inputs = Inputs(n);
        var name = n == 1 ? "Map" : "StarMap";
        var item = n == 1 ? "T1" : $"({string.Join(", ", inputs)})";
        var spread = n == 1 ? "[item]" : $"[{string.Join(", ", Enumerable.Range(1, n).Select(i => $"item.Item{i}"))}]";
        foreach (var source in new[] { "IEnumerable", "IAsyncEnumerable" })
        {
            foreach (var bound in Bound)
            {
                foreach (var (ret, result) in Returns)
                {
                    var what = n == 1 ? "each item" : "each tuple of arguments";
                    var results = result is null
                        ? "each item's result is <see langword=\"null\"/>, and the items come back in input order, or in completion order through <see cref=\"PoolResult{T}.AsCompleted\"/>, once done"
                        : "the results come in input order, or in completion order through <see cref=\"PoolResult{T}.AsCompleted\"/>";
                    lines.AddRange(Doc($"Runs <paramref name=\"job\"/> in the pool for {what} of <paramref name=\"items\"/>, pulled lazily; {results}.", bound));
                    lines.Add("    /// <param name=\"items\">The inputs; enumerated once, at most <see cref=\"ProcessPoolOptions.MapWindow\"/> ahead of the consumer.</param>");
                    lines.Add("    /// <param name=\"cancellationToken\">Cancels the items not yet done.</param>");
                    var parameters = string.Join(", ", "this IProcessPool pool", $"{Func(inputs, bound, ret)} job", $"{source}<{item}> items", "CancellationToken cancellationToken = default");
                    var resultType = result ?? "object?";
                    lines.AddRange(ReflectionPath);
                    lines.Add($"    public static PoolResult<{resultType}> {name}{TypeParameters(n, result)}({parameters})");
                    lines.Add($"        => GeneratedCalls.Map<{item}, {resultType}>(pool, Target(job, {n}), {n}, items, static item => {spread}, cancellationToken);");
                    lines.Add(string.Empty);
                }
            }
        }
    }

    return Close(lines);
}

static string WorkerProcessOverloads()
{
    var lines = Header("WorkerProcess", "public partial class WorkerProcess");
    for (var n = 0; n <= 4; n++)
    {
        var inputs = Inputs(n);
        foreach (var bound in Bound)
        {
            foreach (var (ret, result) in Returns)
            {
                var r = result ?? "object?";
                lines.Add("    /// <summary>Starts a fresh worker process that runs <paramref name=\"job\"/> once and then exits; returns once the job has been sent to it." +
                          (result is null ? " Await <see cref=\"Completion\"/> for the job's end.</summary>" : " Await the returned worker for the job's result.</summary>"));
                lines.Add(JobDoc(bound));
                lines.AddRange(ArgumentDocs(n));
                lines.Add("    /// <param name=\"configure\">Sets other options of the worker (its environment, serializer, content root).</param>");
                lines.Add("    /// <param name=\"configureWorker\">Adds to the worker's own host what a pool's workers take: <c>worker => worker.AddWorkerInitializer&lt;T&gt;().ConfigureWorkerHost(...)</c>.</param>");
                lines.Add("    /// <param name=\"cancellationToken\">Abandons the start, or cancels the job once started.</param>");
                var parameters = string.Join(", ", new[] { $"{Func(inputs, bound, ret)} job" }
                    .Concat(inputs.Select((t, i) => $"{t} arg{i + 1}"))
                    .Append("Action<ProcessPoolOptions>? configure = null")
                    .Append("Action<Microsoft.Extensions.DependencyInjection.IProcessPoolBuilder>? configureWorker = null")
                    .Append("CancellationToken cancellationToken = default"));
                lines.AddRange(ReflectionPath);
                lines.Add($"    public static Task<WorkerProcess<{r}>> StartAsync{TypeParameters(n, result)}({parameters})");
                lines.Add($"        => StartGeneratedAsync<{r}>(JobTarget.FromDelegate(job), {ArgumentArray(n)}, configure, configureWorker, cancellationToken);");
                lines.Add(string.Empty);
            }
        }
    }

    return Close(lines);
}

static List<string> Header(string name, string declaration) =>
[
    $"// <auto-generated> by eng/generate-overloads.cs: the arity overloads of {name}. Edit the generator, not this file. </auto-generated>",
    "#nullable enable",
    "using System.Diagnostics.CodeAnalysis;",
    "using ProcessPools.Generated;",
    "using ProcessPools.Jobs;",
    string.Empty,
    "namespace ProcessPools;",
    string.Empty,
    declaration,
    "{",
];

static string Close(List<string> lines)
{
    lines[^1] = "}";
    var text = new StringBuilder();
    foreach (var line in lines)
    {
        text.Append(line).Append('\n');
    }

    return text.ToString();
}

static string[] Inputs(int n) => [.. Enumerable.Range(1, n).Select(i => $"T{i}")];

static string TypeParameters(int n, string? result)
{
    var names = Inputs(n).Concat(result is null ? [] : ["TResult"]).ToArray();
    return names.Length == 0 ? string.Empty : $"<{string.Join(", ", names)}>";
}

static string Func(string[] inputs, string[] bound, string ret) => $"Func<{string.Join(", ", inputs.Concat(bound).Append(ret))}>";

static string ArgumentArray(int n) => $"[{string.Join(", ", Enumerable.Range(1, n).Select(i => $"arg{i}"))}]";

static IEnumerable<string> ArgumentDocs(int n) =>
    Enumerable.Range(1, n).Select(i => $"    /// <param name=\"arg{i}\">Argument {i}, serialized and sent to the worker.</param>");

static IEnumerable<string> Doc(string summary, string[] bound) =>
[
    $"    /// <summary>{summary}</summary>",
    "    /// <param name=\"pool\">The pool.</param>",
    JobDoc(bound),
];

static string JobDoc(string[] bound) => "    /// <param name=\"job\">A static method or a non-capturing lambda." + (bound.Length switch
{
    0 => string.Empty,
    1 => " Its <see cref=\"CancellationToken\"/> parameter is bound in the child.",
    _ => " Its <see cref=\"IServiceProvider\"/> (a scope of the worker's container) and <see cref=\"CancellationToken\"/> parameters are bound in the child.",
}) + "</param>";

/// <summary>The delegate return types, each with its result type (null for a job without one).</summary>
internal static partial class Program
{
    private static readonly (string Return, string? Result)[] Returns =
    [
        ("Task<TResult>", "TResult"),
        ("ValueTask<TResult>", "TResult"),
        ("Task", null),
        ("ValueTask", null),
    ];

    // Every overload names its job by reflection; ProcessPool's source generator intercepts the calls it can see, so the
    // warning stays only where it could not (a delegate held in a variable, a job of a shape it does not take).
    private static readonly string[] ReflectionPath =
    [
        "    [RequiresUnreferencedCode(JobShape.ReflectionPath)]",
        "    [RequiresDynamicCode(JobShape.ReflectionPath)]",
    ];

    // The parameters a worker binds itself, at the end of a job's parameter list: none, a token, or the job's service scope and a token.
    private static readonly string[][] Bound = [[], ["CancellationToken"], ["IServiceProvider", "CancellationToken"]];
}
