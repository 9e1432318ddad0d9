namespace NodeAgent.Rendering;

/// <summary>
/// One containerd registry host namespace: what <c>/etc/containerd/certs.d/&lt;Namespace&gt;/hosts.toml</c>
/// says. containerd tries <see cref="Hosts"/> in order, then <see cref="Server"/>; each is used for
/// an operation only when its capabilities include it.
/// </summary>
public sealed record ContainerdHostsFile(string Namespace, ContainerdEndpoint Server, IReadOnlyList<ContainerdEndpoint> Hosts)
{
    /// <summary>False when pulls must never reach the registry itself (NeverContactSource, blocked).</summary>
    public bool PullsReachServer => Server.Capabilities.Count == 0;
}

/// <summary>
/// The root <c>server</c> or one <c>[host."…"]</c> table. An empty <see cref="Capabilities"/> list is
/// containerd's default (pull, resolve and push) and is not written.
/// </summary>
public sealed record ContainerdEndpoint(string Url, IReadOnlyList<string> Capabilities, bool OverridePath, bool SkipVerify, string? Ca)
{
    public const string Pull = "pull";
    public const string Resolve = "resolve";
    public const string Push = "push";

    /// <summary>A digest-only mirror: containerd fetches by digest from it but never asks it what a tag points to.</summary>
    public static readonly IReadOnlyList<string> DigestMirror = [Pull];

    /// <summary>A tag mirror: trusted to resolve tags, which containerd calls resolve.</summary>
    public static readonly IReadOnlyList<string> TagMirror = [Pull, Resolve];

    /// <summary>
    /// A server pulls must not reach: containerd always adds the server as the last host and gives
    /// it every capability when none is listed, so it keeps the one capability that pulls never use.
    /// </summary>
    public static readonly IReadOnlyList<string> PushOnly = [Push];
}
