namespace NodeAgent.Rendering;

/// <summary>
/// What a render decided before it wrote registries.conf: the merged mirror sets of each group,
/// where each source was first stated, and the registry scopes after payload protection. Other
/// runtimes' files (<see cref="ContainerdHostsRenderer"/>) are rendered from these, so every
/// rule of the merge and of the blocked split is applied once.
/// </summary>
public sealed record RegistryRules
{
    public static readonly RegistryRules Empty = new();

    /// <summary>IDMS and ICSP sources, merged, in byte order (registries.md §2.4.4).</summary>
    public IReadOnlyList<MergedMirrorSet> DigestSets { get; init; } = [];

    /// <summary>ITMS sources, merged, in byte order.</summary>
    public IReadOnlyList<MergedMirrorSet> TagSets { get; init; } = [];

    /// <summary>The <c>source</c> field that first names each digest-group source.</summary>
    public IReadOnlyDictionary<string, FieldRef> DigestOrigins { get; init; } = new Dictionary<string, FieldRef>();

    /// <summary>The <c>source</c> field that first names each tag-group source.</summary>
    public IReadOnlyDictionary<string, FieldRef> TagOrigins { get; init; } = new Dictionary<string, FieldRef>();

    public IReadOnlyList<ScopeEntry> Insecure { get; init; } = [];

    /// <summary>The blocked scopes registries.conf applies: payload protection has dropped those it had to.</summary>
    public IReadOnlyList<ScopeEntry> Blocked { get; init; } = [];

    public IReadOnlyList<ScopeEntry> Allowed { get; init; } = [];
}
