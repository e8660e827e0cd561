// Checks that the folders of each assembly depend on each other in one direction only: no cycle between
// folders (Dispatch -> Supervision -> Channel, never back). A folder depends on another when one of its files
// names a type declared there (comments and strings aside). Prints the folder graph; fails on a cycle.
//
//   dotnet run eng/check-layers.cs      (from the repository root)
using System.Text.RegularExpressions;

// Each assembly: its own folder and the shared folders compiled into it.
var assemblies = new (string Name, string[] Roots)[]
{
    ("ProcessPool.Hosting", ["src/Hosting", "src/Shared"]),
    ("ProcessPool.Worker", ["src/Worker", "src/Shared"]),
    ("ProcessPool.Abstractions", ["src/Abstractions", "src/Shared/Jobs"]),
    ("ProcessPool.Orleans", ["src/Orleans"]),
};

var declaration = new Regex(@"\b(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+([A-Z]\w*)", RegexOptions.Compiled);
// A name after a dot is a member (FrameType.Log), not a type; enum members are not types either.
var identifier = new Regex(@"(?<![.\w])[A-Z]\w*\b", RegexOptions.Compiled);
var enumBody = new Regex(@"(\benum\s+\w+[^{;]*)\{[^}]*\}", RegexOptions.Compiled);
var noise = new Regex(@"//[^\n]*|/\*.*?\*/|@""(?:[^""]|"""")*""|""(?:\\.|[^""\\\n])*""|'(?:\\.|[^'\\\n])'", RegexOptions.Compiled | RegexOptions.Singleline);
var failures = 0;

foreach (var (name, roots) in assemblies)
{
    var files = roots
        .SelectMany(root => Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Where(f => root != "src/Shared" || !f.StartsWith("src/Shared/Jobs", StringComparison.Ordinal) || roots.Contains("src/Shared"))
            .Select(f => (Path: f, Folder: FolderOf(root, f), Code: enumBody.Replace(noise.Replace(File.ReadAllText(f), " "), "$1{}"))))
        .DistinctBy(f => f.Path)
        .ToList();

    // A type declared in two folders is ambiguous by name alone: it names no dependency.
    var declaredIn = files
        .SelectMany(f => declaration.Matches(f.Code).Select(m => (Type: m.Groups[1].Value, f.Folder)))
        .Distinct()
        .GroupBy(d => d.Type)
        .Where(g => g.Count() == 1)
        .ToDictionary(g => g.Key, g => g.Single().Folder);

    var edges = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
    foreach (var file in files)
    {
        var targets = edges.TryGetValue(file.Folder, out var set) ? set : edges[file.Folder] = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match match in identifier.Matches(file.Code))
        {
            if (declaredIn.TryGetValue(match.Value, out var folder) && folder != file.Folder)
            {
                targets.Add(folder);
            }
        }
    }

    Console.WriteLine($"{name}:");
    foreach (var (folder, targets) in edges)
    {
        Console.WriteLine($"  {folder,-22} -> {(targets.Count == 0 ? "(nothing)" : string.Join(", ", targets))}");
    }

    foreach (var cycle in Cycles(edges))
    {
        Console.Error.WriteLine($"  cycle: {string.Join(" -> ", cycle)}");
        failures++;
    }
}

Console.WriteLine(failures == 0 ? "no folder cycle" : $"{failures} folder cycle(s)");
return failures == 0 ? 0 : 1;

static string FolderOf(string root, string file)
{
    var relative = Path.GetRelativePath(root, file);
    var folder = Path.GetDirectoryName(relative);
    var prefix = root.StartsWith("src/Shared", StringComparison.Ordinal) ? "Shared/" : string.Empty;
    if (root == "src/Shared/Jobs")
    {
        return "Shared/Jobs";
    }

    return string.IsNullOrEmpty(folder) ? prefix + "(root)" : prefix + folder.Split(Path.DirectorySeparatorChar)[0];
}

static IEnumerable<string[]> Cycles(SortedDictionary<string, SortedSet<string>> edges)
{
    // Depth-first search: a back edge to a folder on the current path closes a cycle.
    var state = new Dictionary<string, int>();
    var path = new List<string>();
    var found = new List<string[]>();

    void Visit(string node)
    {
        state[node] = 1;
        path.Add(node);
        foreach (var next in edges.TryGetValue(node, out var targets) ? targets : [])
        {
            if (state.GetValueOrDefault(next) == 1)
            {
                found.Add([.. path.Skip(path.IndexOf(next)), next]);
            }
            else if (state.GetValueOrDefault(next) == 0)
            {
                Visit(next);
            }
        }

        path.RemoveAt(path.Count - 1);
        state[node] = 2;
    }

    foreach (var node in edges.Keys)
    {
        if (state.GetValueOrDefault(node) == 0)
        {
            Visit(node);
        }
    }

    return found;
}
