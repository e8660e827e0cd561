using System.Diagnostics;
using System.Text;

namespace ProcessPools.Protocol;

/// <summary>
/// W3C trace context and baggage as they travel to a worker ahead of a job: <c>traceparent</c>,
/// <c>tracestate</c> and <c>baggage</c> (in the header's own format), one per line.
/// </summary>
internal static class TraceContextPayload
{
    public static byte[]? Encode(Activity? activity)
    {
        if (activity is not { IdFormat: ActivityIdFormat.W3C, Id: { } traceParent })
        {
            return null;
        }

        var baggage = string.Join(',', activity.Baggage.Select(b => $"{Uri.EscapeDataString(b.Key)}={Uri.EscapeDataString(b.Value ?? string.Empty)}"));
        return Encoding.UTF8.GetBytes($"{traceParent}\n{activity.TraceStateString}\n{baggage}");
    }

    public static (string TraceParent, string? TraceState, IReadOnlyList<KeyValuePair<string, string>> Baggage) Decode(ReadOnlySpan<byte> payload)
    {
        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        var baggage = parts.Length > 2 && parts[2].Length > 0
            ? parts[2].Split(',').Select(p => p.Split('=', 2)).Where(kv => kv.Length == 2)
                .Select(kv => KeyValuePair.Create(Uri.UnescapeDataString(kv[0]), Uri.UnescapeDataString(kv[1]))).ToArray()
            : [];
        return (parts[0], parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null, baggage);
    }
}
