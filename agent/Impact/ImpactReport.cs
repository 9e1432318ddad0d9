namespace NodeAgent.Impact;

/// <summary>A file's two versions as a dry run sees them; equal bytes when it would not change.</summary>
public sealed record FileVersions(string Path, byte[]? Before, byte[]? After)
{
    public bool Changed => Before is null ? After is not null : After is null || !Before.AsSpan().SequenceEqual(After);

    /// <summary>created, removed or updated.</summary>
    public string Change => Before is null ? "created" : After is null ? "removed" : "updated";
}

/// <summary>Where short names are looked up: the drop-in's list when it sets one, else registries.conf's.</summary>
public sealed record SearchChange(IReadOnlyList<string> Before, IReadOnlyList<string> After);

/// <summary>A CA file for one registry host that changes: trust for that host changes on the next pull.</summary>
public sealed record TrustChange(string Host, string Path, string Change);

/// <summary>
/// What a dry run's changes mean on this node: per scope, what happens to pulls; search order,
/// policy and trust changes; whether CRI-O reloads; and what MCO would have done instead.
/// </summary>
public sealed record ImpactReport
{
    public IReadOnlyList<FileVersions> Files { get; init; } = [];

    public IReadOnlyList<ScopeImpact> Scopes { get; init; } = [];

    public SearchChange? Search { get; init; }

    public IReadOnlyList<PolicyChange> Policy { get; init; } = [];

    public IReadOnlyList<TrustChange> Trust { get; init; } = [];

    /// <summary>The runtime files that change; CRI-O reloads when there is any.</summary>
    public IReadOnlyList<string> ReloadBecause { get; init; } = [];

    public bool ReloadNeeded => ReloadBecause.Count > 0;

    /// <summary>True when reloads are turned off (<c>--reload-command ''</c>): a needed reload does not happen.</summary>
    public bool ReloadDisabled { get; init; }

    public McoVerdict Mco { get; init; } = new(McoAction.None, "no file MCO manages changed");

    /// <summary>What could not be compared, e.g. a registries.conf on disk that does not parse.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
