using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ProcessPools.UnitTests.Docs;

/// <summary>
/// The code in the README and the docs compiles: each C# block is marked <c>&lt;!-- snippet: name --&gt;</c> and
/// is, line for line, a region of a file in docs/snippets/, which is compiled here against the packages a user
/// references (ProcessPool, ASP.NET Core, OpenTelemetry) with the web template's implicit usings.
/// </summary>
public sealed partial class DocsSnippetsTests
{
    private static readonly string Root = FindRoot();
    private static readonly string SnippetsFolder = Path.Combine(Root, "docs", "snippets");

    /// <summary>The SDK's System.Text.Json source generator, from the targeting pack of the runtime these tests run on.</summary>
    private static readonly Lazy<ISourceGenerator[]> JsonSourceGenerator = new(() =>
    {
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!; // <dotnet>/shared/Microsoft.NETCore.App/<version>
        var dotnet = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var pack = Path.Combine(dotnet, "packs", "Microsoft.NETCore.App.Ref", Path.GetFileName(runtime));
        var path = Directory.GetFiles(pack, "System.Text.Json.SourceGeneration.dll", SearchOption.AllDirectories).Single(p => p.Contains($"{Path.DirectorySeparatorChar}cs{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        return [.. new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(path, new AssemblyLoader()).GetGenerators(LanguageNames.CSharp)];
    });

    public static TheoryData<string> SnippetFiles() =>
        [.. Directory.GetFiles(SnippetsFolder, "*.cs").Select(f => Path.GetFileName(f)).Where(f => f != "Support.cs")];

    public static TheoryData<string> Documents() => ["README.md", "docs/guide.md", "docs/deployment.md"];

    [Theory]
    [MemberData(nameof(SnippetFiles))]
    public void A_snippet_file_compiles(string file)
    {
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(File.ReadAllText(Path.Combine(SnippetsFolder, file)), options, path: file),
            CSharpSyntaxTree.ParseText(File.ReadAllText(Path.Combine(SnippetsFolder, "Support.cs")), options, path: "Support.cs"),
            CSharpSyntaxTree.ParseText(ImplicitUsings, options, path: "ImplicitUsings.cs"),
        };
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create(
            Path.GetFileNameWithoutExtension(file),
            trees,
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        // System.Text.Json's source generator runs as in a build, for the snippets that declare a JsonSerializerContext.
        CSharpGeneratorDriver.Create(JsonSourceGenerator.Value).RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _, TestContext.Current.CancellationToken);
        var errors = generated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();

        Assert.True(errors.Length == 0, string.Join(Environment.NewLine, errors));
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_code_block_of_a_document_is_a_compiled_snippet(string document)
    {
        var regions = Directory.GetFiles(SnippetsFolder, "*.cs")
            .SelectMany(f => Region().Matches(File.ReadAllText(f)))
            .ToDictionary(m => m.Groups["name"].Value, m => Dedent(m.Groups["code"].Value));
        var text = File.ReadAllText(Path.Combine(Root, document));
        var blocks = CodeBlock().Matches(text);

        Assert.NotEmpty(blocks);
        foreach (Match block in blocks)
        {
            var line = text[..block.Index].Count(c => c == '\n') + 1;
            Assert.True(block.Groups["name"].Success, $"{document}, line {line}: a C# block without '<!-- snippet: name -->' before it");
            var name = block.Groups["name"].Value;
            Assert.True(regions.TryGetValue(name, out var code), $"{document}, line {line}: no region '{name}' in docs/snippets");
            Assert.Equal(code, Dedent(block.Groups["code"].Value));
        }
    }

    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        """;

    private static string Dedent(string code)
    {
        var lines = code.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n', ' ').Split('\n').Select(l => l.TrimEnd()).ToArray();
        var indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l)).Trim('\n');
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Hosting.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Hosting.sln not found above the test output.");
    }

    [GeneratedRegex(@"^[ \t]*// snippet: (?<name>[\w-]+)\r?\n(?<code>.*?)^[ \t]*// end snippet", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Region();

    [GeneratedRegex(@"(?:<!-- snippet: (?<name>[\w-]+) -->\r?\n[ \t]*)?```csharp\r?\n(?<code>.*?)^[ \t]*```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    private sealed class AssemblyLoader : Microsoft.CodeAnalysis.IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public System.Reflection.Assembly LoadFromPath(string fullPath) => System.Reflection.Assembly.LoadFrom(fullPath);
    }
}
