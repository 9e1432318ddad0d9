namespace NodeAgent.Rendering;

/// <summary>Everything the containerd render reads.</summary>
public sealed record ContainerdInputs
{
    public RegistryRules Rules { get; init; } = RegistryRules.Empty;

    /// <summary>Registry <c>host[:port]</c> → the host path of the <c>ca.crt</c> node-agent keeps for it.</summary>
    public IReadOnlyDictionary<string, string> CaFiles { get; init; } = new Dictionary<string, string>();
}

/// <summary>The hosts.toml files of a render, one per registry host in byte order, and what could not be expressed.</summary>
public sealed record ContainerdRenderResult(IReadOnlyList<ContainerdHostsFile> Files, IReadOnlyList<Problem> Problems);

/// <summary>
/// The same cluster objects as containerd host namespaces. containerd picks a <c>hosts.toml</c> by
/// the registry host of a reference and appends the reference's whole repository path to every
/// endpoint's path, so a mirror set is expressed exactly when its source is a whole registry host
/// (<c>host[:port]</c>): its mirrors, in merged order, become <c>[host."…"]</c> entries whose path
/// (after <c>/v2</c>, with <c>override_path</c>) is the mirror's path. A repository scope, a
/// wildcard, a blocked or insecure scope narrower than a host cannot be expressed without
/// sending some pulls somewhere the cluster did not say; those are left out with a warning
/// naming the object, the field and the value, never written approximately.
/// </summary>
public static class ContainerdHostsRenderer
{
    /// <summary>containerd's own name for Docker Hub's registry endpoint (it never contacts docker.io itself).</summary>
    public const string DockerHubEndpoint = "registry-1.docker.io";

    private static readonly FieldRef AllowedRegistries = new("Image/cluster", "spec.registrySources.allowedRegistries");

    public static ContainerdRenderResult Render(ContainerdInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var rules = inputs.Rules;
        var problems = new List<Problem>();
        var plans = new SortedDictionary<string, HostPlan>(ByteOrder.Instance);
        HostPlan Plan(string host) => plans.TryGetValue(host, out var plan) ? plan : plans[host] = new HostPlan();

        AddMirrorSets(rules.DigestSets, rules.DigestOrigins, ContainerdEndpoint.DigestMirror, rules.Blocked, Plan, problems);
        AddMirrorSets(rules.TagSets, rules.TagOrigins, ContainerdEndpoint.TagMirror, rules.Blocked, Plan, problems);
        foreach (var scope in rules.Blocked.Concat(rules.Insecure).Where(s => ScopeRules.IsRegistryHost(s.Scope)))
        {
            Plan(scope.Scope);
        }
        foreach (var host in inputs.CaFiles.Keys)
        {
            Plan(host);
        }

        var files = plans.Select(p => Build(p.Key, p.Value, rules, inputs.CaFiles)).ToList();
        WarnAboutScopes(rules, files, problems);
        return new ContainerdRenderResult(files, problems);
    }

    /// <summary>The URL containerd is given for a <c>host[:port][/path]</c> location, and whether its path replaces <c>/v2</c>.</summary>
    public static (string Url, bool OverridePath) EndpointUrl(string location)
    {
        var slash = location.IndexOf('/', StringComparison.Ordinal);
        var host = Endpoint(slash < 0 ? location : location[..slash]);
        // containerd requests <path>/<repository>/manifests/…; the registry API root is /v2 on
        // the host, so a mirror's namespace path goes after it and must not get another /v2.
        return slash < 0 ? ($"https://{host}", false) : ($"https://{host}/v2{location[slash..]}", true);
    }

    private static string Endpoint(string host) => host == "docker.io" ? DockerHubEndpoint : host;

    private static string HostOf(string location)
    {
        var slash = location.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? location : location[..slash];
    }

    private static void AddMirrorSets(
        IReadOnlyList<MergedMirrorSet> sets,
        IReadOnlyDictionary<string, FieldRef> origins,
        IReadOnlyList<string> capabilities,
        IReadOnlyList<ScopeEntry> blocked,
        Func<string, HostPlan> plan,
        List<Problem> problems)
    {
        foreach (var set in sets)
        {
            var origin = origins.TryGetValue(set.Source, out var where) ? where : new FieldRef(set.Source, "");
            if (Unexpressible(set, blocked) is { } reason)
            {
                problems.Add(Problem.Warning(origin, $"containerd: the mirrors of {GoQuote.Quote(set.Source)} are not written: {reason}"));
                continue;
            }
            var host = plan(set.Source);
            host.NeverContactSource |= set.NeverContactSource;
            foreach (var mirror in set.Mirrors)
            {
                if (blocked.FirstOrDefault(b => Overlaps(mirror, b.Scope)) is { } scope)
                {
                    problems.Add(Problem.Warning(origin,
                        $"containerd: the mirror {GoQuote.Quote(mirror)} of {GoQuote.Quote(set.Source)} is not written: it overlaps the blocked scope " +
                        $"{GoQuote.Quote(scope.Scope)}, which CRI-O refuses to contact and containerd would contact"));
                    continue;
                }
                host.AddMirror(mirror, capabilities);
            }
        }
    }

    // Why a source cannot be a hosts.toml of its own, or null when it can (a bare host[:port]).
    private static string? Unexpressible(MergedMirrorSet set, IReadOnlyList<ScopeEntry> blocked)
    {
        var source = set.Source;
        var neverContact = set.NeverContactSource ? ", and NeverContactSource is not enforced there" : "";
        if (ScopeRules.IsWildcard(source))
        {
            return "a containerd host namespace is one registry host (there is no wildcard namespace, and _default would " +
                $"apply to every registry), so hosts under it are not mirrored on containerd nodes{neverContact}";
        }
        var slash = source.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            // The name becomes a directory: only a registry host[:port] may (invalid sources are errors anyway).
            return ScopeRules.IsRegistryHost(source) ? null : "it is not a registry host[:port], so it cannot name a host namespace";
        }
        var host = source[..slash];
        var repository = source[(slash + 1)..];
        var reason = $"hosts.toml applies to every repository of {host}, so they would also receive pulls of its other repositories";
        if (set.Mirrors.FirstOrDefault(m => !m.EndsWith("/" + repository, StringComparison.Ordinal)) is { } rewritten)
        {
            reason += $"; and containerd only puts a mirror's path in front of the repository path, so {GoQuote.Quote(source)} " +
                $"cannot map to {GoQuote.Quote(rewritten)}";
        }
        // Payload protection keeps a blocked registry's repository usable through its mirror on
        // CRI-O; containerd can only block the whole host, mirror included.
        var hostBlocked = blocked.Any(b => ScopeRules.IsNestedInside(host, b.Scope)) ? ", which blocks them: they fail" : "";
        return $"{reason}. On containerd nodes its pulls go where {host} is configured{hostBlocked}{neverContact}";
    }

    // A mirror inside a blocked scope is refused by CRI-O; one with a blocked scope below it would
    // be contacted for the blocked repositories, since containerd maps every repository through it.
    private static bool Overlaps(string mirror, string blocked) =>
        ScopeRules.IsNestedInside(mirror, blocked) || ScopeRules.IsNestedInside(blocked, mirror);

    private static ContainerdHostsFile Build(string host, HostPlan plan, RegistryRules rules, IReadOnlyDictionary<string, string> caFiles)
    {
        var blocked = plan.NeverContactSource || rules.Blocked.Any(b => ScopeRules.IsNestedInside(host, b.Scope));
        var server = new ContainerdEndpoint(
            $"https://{Endpoint(host)}",
            blocked ? ContainerdEndpoint.PushOnly : [],
            OverridePath: false,
            IsInsecure(host, rules),
            caFiles.GetValueOrDefault(host));
        var hosts = plan.Mirrors.Select(m =>
        {
            var (url, overridePath) = EndpointUrl(m.Location);
            return new ContainerdEndpoint(url, m.Capabilities, overridePath, IsInsecure(m.Location, rules), caFiles.GetValueOrDefault(HostOf(m.Location)));
        }).ToList();
        return new ContainerdHostsFile(host, server, hosts);
    }

    // MCO's rule for registries.conf, applied to the same locations: a location is insecure when it
    // is inside an insecure scope (registries.md §2.4.6).
    private static bool IsInsecure(string location, RegistryRules rules) =>
        rules.Insecure.Any(i => ScopeRules.IsNestedInside(location, i.Scope));

    private enum ScopeKind
    {
        Host,
        Wildcard,
        Repository,
        Other,
    }

    // What a scope can mean to containerd at all: a host, a wildcard domain, or a repository of a host.
    private static ScopeKind KindOf(string scope) =>
        ScopeRules.IsRegistryHost(scope) ? ScopeKind.Host
        : ScopeRules.IsWildcard(scope) ? ScopeKind.Wildcard
        : ScopeRules.IsRegistryHost(HostOf(scope)) ? ScopeKind.Repository
        : ScopeKind.Other;

    private static void WarnAboutScopes(RegistryRules rules, IReadOnlyList<ContainerdHostsFile> files, List<Problem> problems)
    {
        var warnings = rules.Blocked.Select(s => (s.Origin, Message: BlockedWarning(s.Scope, files)))
            .Concat(rules.Insecure.Select(s => (s.Origin, Message: InsecureWarning(s.Scope, files))));
        foreach (var (origin, message) in warnings.Where(w => w.Message is not null))
        {
            problems.Add(Problem.Warning(origin, "containerd: " + message));
        }
        if (rules.Allowed.Count > 0)
        {
            problems.Add(Problem.Warning(AllowedRegistries,
                "containerd: allowedRegistries is not enforced on containerd nodes: containerd reads no policy.json, and hosts.toml cannot refuse a registry"));
        }
    }

    private static string? BlockedWarning(string scope, IReadOnlyList<ContainerdHostsFile> files) => KindOf(scope) switch
    {
        ScopeKind.Host => files.First(f => f.Namespace == scope).Hosts.Count == 0 ? null
            : $"{GoQuote.Quote(scope)} is never contacted and its mirrors are kept, but containerd reads no policy.json, " +
              "so pulls through the mirrors succeed where CRI-O's policy rejects them",
        ScopeKind.Wildcard => $"{GoQuote.Quote(scope)} is blocked on containerd nodes only for the hosts node-agent writes a hosts.toml for " +
            $"({Covered(files, scope)}); there is no wildcard namespace, so other hosts under it stay reachable",
        ScopeKind.Repository => $"{GoQuote.Quote(scope)} is not blocked on containerd nodes: a hosts.toml covers a whole registry host, " +
            $"so blocking it would block every repository of {HostOf(scope)}, and containerd reads no policy.json; " +
            $"its pulls go where {HostOf(scope)} is configured",
        _ => NotAScope(scope),
    };

    private static string? InsecureWarning(string scope, IReadOnlyList<ContainerdHostsFile> files) => KindOf(scope) switch
    {
        ScopeKind.Host => $"{GoQuote.Quote(scope)} is insecure: hosts.toml skips TLS verification (skip_verify) but keeps https://, " +
            "so a registry that serves only plain HTTP is not reachable from containerd",
        ScopeKind.Wildcard => $"{GoQuote.Quote(scope)} skips TLS verification on containerd nodes only for the hosts node-agent writes a " +
            $"hosts.toml for ({Covered(files, scope)}) and for mirrors under it; there is no wildcard namespace, so TLS to other hosts under it is verified",
        ScopeKind.Repository => $"TLS verification cannot be skipped for {GoQuote.Quote(scope)} alone: skip_verify applies to a whole " +
            $"registry host, so only mirrors inside it skip verification and pulls from {HostOf(scope)} itself verify TLS",
        _ => NotAScope(scope),
    };

    private static string NotAScope(string scope) =>
        $"{GoQuote.Quote(scope)} is not a registry host[:port], a repository in one or a *.domain, so nothing is written for it";

    // The hosts with a hosts.toml that a wildcard scope covers.
    private static string Covered(IReadOnlyList<ContainerdHostsFile> files, string wildcard)
    {
        var names = files.Where(f => ScopeRules.IsNestedInside(f.Namespace, wildcard)).Select(f => f.Namespace).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    private sealed class HostPlan
    {
        public bool NeverContactSource { get; set; }

        public List<(string Location, IReadOnlyList<string> Capabilities)> Mirrors { get; } = [];

        // One table per URL: a mirror in both groups is trusted to resolve tags and serves digests
        // from its first position.
        public void AddMirror(string location, IReadOnlyList<string> capabilities)
        {
            var index = Mirrors.FindIndex(m => m.Location == location);
            if (index < 0)
            {
                Mirrors.Add((location, capabilities));
            }
            else if (capabilities.Count > Mirrors[index].Capabilities.Count)
            {
                Mirrors[index] = (location, capabilities);
            }
        }
    }
}
