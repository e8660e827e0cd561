namespace ProcessPools.Dashboard;

/// <summary>
/// Who may see the dashboard and act through it. Without any authorization decision (no policy here, no
/// <c>RequireAuthorization</c>/<c>AllowAnonymous</c> on the endpoints), it answers only in the Development environment
/// and only to loopback clients; everyone else gets 403 and no data.
/// </summary>
public sealed class ProcessPoolDashboardOptions
{
    /// <summary>Gets or sets the authorization policy required to see the dashboard and its API.</summary>
    public string? ReadPolicy { get; set; }

    /// <summary>
    /// Gets or sets the authorization policy required, on top of reading, to act (recycle, kill, cancel, drain,
    /// resume). When <see cref="ReadPolicy"/> is set and this is not, the dashboard is read-only.
    /// </summary>
    public string? OperatePolicy { get; set; }

    /// <summary>Gets or sets whether every action is refused (403), whoever asks.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>Gets or sets how often a connected page gets a new snapshot; 1 second by default, between 250 ms and 1 minute.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how much chart history is kept per pool while someone watches; 5 minutes by default.</summary>
    public TimeSpan History { get; set; } = TimeSpan.FromMinutes(5);
}
