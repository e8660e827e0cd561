using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ProcessPools.Benchmarks;

/// <summary>One figure: ours, next to its baselines measured in the same run, and the target it is held to.</summary>
/// <param name="Workload">What ran.</param>
/// <param name="Metric">What was measured.</param>
/// <param name="Unit">The unit of the three values.</param>
/// <param name="Ours">The pool's figure.</param>
/// <param name="InProcess">The same work on <c>Task.Run</c> in-process, when it has a meaning.</param>
/// <param name="Floor">The raw transport floor (or the process-start floor for cold start), when it has a meaning.</param>
/// <param name="Target">The target from the issue.</param>
/// <param name="HigherIsBetter">Whether a larger value is better.</param>
internal sealed record Row(string Workload, string Metric, string Unit, double Ours, double? InProcess, double? Floor, double? Target, bool HigherIsBetter)
{
    /// <summary>Whether the target holds; <see langword="null"/> for a figure reported without a target.</summary>
    public bool? Met => Target is not { } target ? null : HigherIsBetter ? Ours >= target : Ours <= target;

    /// <summary>How far ours is from the target: above 1 means met.</summary>
    public double TargetRatio => Target is not { } target ? 1 : HigherIsBetter ? Ours / target : target / Math.Max(Ours, 1e-9);
}

internal static class Report
{
    public static string Markdown(IReadOnlyList<Row> rows, string header)
    {
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        text.AppendLine("| workload | metric | ours | in-process (Task.Run) | floor | ours / baseline | target | met |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|:-:|");
        foreach (var row in rows)
        {
            var baseline = row.Floor ?? row.InProcess;
            var ratio = baseline is { } b && b > 0 ? Ratio(row, b) : "";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Workload} | {row.Metric} | {Format(row.Ours, row.Unit)} | {Format(row.InProcess, row.Unit)} | {Format(row.Floor, row.Unit)} | {ratio} | {(row.Target is null ? "" : (row.HigherIsBetter ? ">= " : "<= ") + Format(row.Target, row.Unit))} | {row.Met switch { true => "yes", false => "**no**", null => "" }} |");
        }

        return text.ToString();
    }

    /// <summary>How ours compares with the baseline, in the words that fit the direction (slower/faster, the cost).</summary>
    private static string Ratio(Row row, double baseline) => row.HigherIsBetter
        ? row.Ours <= baseline
            ? string.Create(CultureInfo.InvariantCulture, $"{baseline / row.Ours:0.##}x slower")
            : string.Create(CultureInfo.InvariantCulture, $"{row.Ours / baseline:0.##}x faster")
        : string.Create(CultureInfo.InvariantCulture, $"{row.Ours / baseline:0.##}x the cost");

    public static string Json(IReadOnlyList<Row> rows, string machine) =>
        JsonSerializer.Serialize(new Results(machine, rows), BenchJson.Default.Results);

    /// <summary>A bar per figure: ours against its target on a log scale, the target line at 1.</summary>
    public static string Svg(IReadOnlyList<Row> rows, string title)
    {
        const int left = 330, width = 420, rowHeight = 26, top = 50;
        var height = top + (rows.Count * rowHeight) + 40;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{left + width + 80}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>");
        svg.AppendLine("<text x=\"10\" y=\"38\" fill=\"#555\">Each bar: ours relative to the target (log scale, centre line = target met exactly; right of it is better).</text>");
        double Scale(double ratio) => Math.Clamp(Math.Log10(Math.Max(ratio, 1e-3)) / 3, -1, 1) * (width / 2.0);
        var centre = left + (width / 2.0);
        rows = [.. rows.Where(r => r.Target is not null)];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var y = top + (i * rowHeight);
            var extent = Scale(row.TargetRatio);
            var x = extent >= 0 ? centre : centre + extent;
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{Escape($"{row.Workload}: {row.Metric}")}</text>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{y + 4}\" width=\"{Math.Max(1, Math.Abs(extent)):0.#}\" height=\"16\" fill=\"{(row.Met == true ? "#2e7d32" : "#c62828")}\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + width + 6}\" y=\"{y + 16}\">{Escape(Format(row.Ours, row.Unit))}</text>");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{centre}\" y1=\"{top}\" x2=\"{centre}\" y2=\"{top + (rows.Count * rowHeight)}\" stroke=\"black\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{height - 12}\" fill=\"#555\">1000x worse</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + width}\" y=\"{height - 12}\" text-anchor=\"end\" fill=\"#555\">1000x better</text>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    public static string Format(double? value, string unit) => value switch
    {
        null => "",
        { } v when unit == "%" => string.Create(CultureInfo.InvariantCulture, $"{v:0.##} %"),
        { } v when v >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{v / 1_000_000:0.##} M {unit}"),
        { } v when v >= 10_000 => string.Create(CultureInfo.InvariantCulture, $"{v / 1000:0.#} k {unit}"),
        { } v => string.Create(CultureInfo.InvariantCulture, $"{v:0.##} {unit}"),
    };

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
