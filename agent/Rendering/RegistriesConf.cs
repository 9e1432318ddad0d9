namespace NodeAgent.Rendering;

/// <summary>
/// The subset of containers/image's V2 registries configuration that node-agent writes, in the
/// order MCO's TOML encoder emits it.
/// </summary>
public sealed class RegistriesConf
{
    public List<string> UnqualifiedSearchRegistries { get; } = [];

    public List<RegistryEntry> Registries { get; } = [];
}

/// <summary>One <c>[[registry]]</c> table.</summary>
public sealed class RegistryEntry
{
    public string Prefix { get; init; } = "";
    public string Location { get; init; } = "";
    public bool Insecure { get; set; }
    public bool Blocked { get; set; }
    public bool MirrorByDigestOnly { get; set; }
    public List<MirrorEndpoint> Mirrors { get; set; } = [];

    /// <summary>runtime-utils <c>registryScope</c>: the prefix when set, else the location.</summary>
    public string Scope => Prefix.Length > 0 ? Prefix : Location;

    /// <summary>The prefix containers/image matches against: an unset prefix defaults to the location.</summary>
    public string EffectivePrefix => Scope;
}

/// <summary>One <c>[[registry.mirror]]</c> table.</summary>
public sealed record MirrorEndpoint(string Location, bool Insecure, string PullFromMirror)
{
    public const string DigestOnly = "digest-only";
    public const string TagOnly = "tag-only";
    public const string All = "all";

    /// <summary>The value as containers/image applies it: unset means <c>all</c>.</summary>
    public string EffectivePullFromMirror => PullFromMirror.Length == 0 ? All : PullFromMirror;
}
