using NodeAgent.Resources;

namespace NodeAgent.Rendering;

/// <summary>
/// The pure function at the heart of node-agent: cluster objects in, the bytes of registries.conf,
/// policy.json and the search drop-in out, exactly as MCO with runtime-utils would produce them
/// (registries.md), plus every problem found. No file, clock, network or logger is touched.
/// </summary>
public static class Renderer
{
    private static readonly FieldRef RegistrySources = new("Image/cluster", "spec.registrySources");


    public static RenderResult Render(ClusterInputs inputs)
    {
        var problems = new List<Problem>();
        var snapshot = inputs.Snapshot;
        var sources = snapshot.Image?.Spec?.RegistrySources;

        var insecure = Scopes(sources?.InsecureRegistries, "insecureRegistries");
        var blocked = Scopes(sources?.BlockedRegistries, "blockedRegistries");
        var allowed = Scopes(sources?.AllowedRegistries, "allowedRegistries");

        var (releaseImage, releaseOrigin) = ReleaseImage(inputs, blocked.Count > 0, problems);

        var digestEntries = DigestEntries(snapshot);
        var tagEntries = TagEntries(snapshot);
        var digestSets = MirrorSetMerger.Merge(digestEntries);
        var tagSets = MirrorSetMerger.Merge(tagEntries);

        var split = PayloadProtection.Split(releaseImage, releaseOrigin, insecure, blocked, digestSets, digestEntries, problems);

        // MCO's validation order: insecure, blocked, then mirror sets (IDMS, ICSP, ITMS).
        ValidateScopes(insecure, "insecure", problems);
        ValidateScopes(split.RegistriesBlocked, "blocked", problems);
        MirrorSetValidator.Validate(digestEntries.Concat(tagEntries), problems);
        WarnAboutMergedOrder(digestSets, digestEntries, problems);
        WarnAboutMergedOrder(tagSets, tagEntries, problems);

        var config = new RegistriesConf();
        config.UnqualifiedSearchRegistries.AddRange(inputs.BaseSearchRegistries);
        RegistriesEditor.Edit(config, insecure, split.RegistriesBlocked, digestSets, tagSets,
            FirstOrigins(digestEntries.Concat(tagEntries)), problems);

        WarnAboutUncleanScopes(allowed, problems);
        var policy = PolicyRenderer.Render(
            inputs.BasePolicy ?? PolicyRenderer.ParseDefault(),
            split.PolicyBlocked, split.PayloadAllowed, allowed, RegistrySources, problems);

        var search = SearchDropIn(sources?.ContainerRuntimeSearchRegistries, problems);

        return new RenderResult(
            RegistriesConfEncoder.Encode(config),
            PolicyJsonWriter.Write(policy),
            search,
            Deduplicate(problems))
        {
            Rules = new RegistryRules
            {
                DigestSets = digestSets,
                TagSets = tagSets,
                DigestOrigins = FirstOrigins(digestEntries),
                TagOrigins = FirstOrigins(tagEntries),
                Insecure = insecure,
                Blocked = split.RegistriesBlocked,
                Allowed = allowed,
            },
        };
    }

    private static List<ScopeEntry> Scopes(IReadOnlyList<string?>? values, string field)
    {
        var origin = RegistrySources.Child(field);
        var scopes = new List<ScopeEntry>();
        for (var i = 0; values is not null && i < values.Count; i++)
        {
            scopes.Add(new ScopeEntry(values[i] ?? "", origin.Index(i)));
        }
        return scopes;
    }

    private static (ImageReference? Reference, FieldRef Origin) ReleaseImage(ClusterInputs inputs, bool anythingBlocked, List<Problem> problems)
    {
        var (value, origin) = inputs.ReleaseImageOverride is { Length: > 0 } explicitImage
            ? (explicitImage, new FieldRef("--release-image", ""))
            : (inputs.Snapshot.ClusterVersion?.Status?.Desired?.Image, new FieldRef("ClusterVersion/version", "status.desired.image"));
        if (string.IsNullOrEmpty(value))
        {
            if (anythingBlocked)
            {
                problems.Add(Problem.Warning(origin,
                    "no release image is known (no ClusterVersion and no --release-image), so blocked registries are applied " +
                    "without protecting the release payload"));
            }
            return (null, origin);
        }
        if (!ImageReference.TryParse(value, out var reference))
        {
            problems.Add(Problem.Error(origin, $"error parsing reference of release image {GoQuote.Quote(value)}"));
            return (null, origin);
        }
        return (reference, origin);
    }

    private static List<MirrorSetEntry> DigestEntries(ClusterSnapshot snapshot)
    {
        var entries = new List<MirrorSetEntry>();
        foreach (var idms in snapshot.ImageDigestMirrorSets.OrderBy(o => o.Name, ByteOrder.Instance))
        {
            AddEntries(entries, idms.Spec?.ImageDigestMirrors, new FieldRef($"ImageDigestMirrorSet/{idms.Name}", "spec.imageDigestMirrors"));
        }
        foreach (var icsp in snapshot.ImageContentSourcePolicies.OrderBy(o => o.Name, ByteOrder.Instance))
        {
            var list = icsp.Spec?.RepositoryDigestMirrors;
            var origin = new FieldRef($"ImageContentSourcePolicy/{icsp.Name}", "spec.repositoryDigestMirrors");
            for (var i = 0; list is not null && i < list.Count; i++)
            {
                // ICSP has no source policy: it counts as AllowContactingSource.
                entries.Add(Entry(list[i]?.Source, list[i]?.Mirrors, null, origin.Index(i)));
            }
        }
        return entries;
    }

    private static List<MirrorSetEntry> TagEntries(ClusterSnapshot snapshot)
    {
        var entries = new List<MirrorSetEntry>();
        foreach (var itms in snapshot.ImageTagMirrorSets.OrderBy(o => o.Name, ByteOrder.Instance))
        {
            AddEntries(entries, itms.Spec?.ImageTagMirrors, new FieldRef($"ImageTagMirrorSet/{itms.Name}", "spec.imageTagMirrors"));
        }
        return entries;
    }

    private static void AddEntries(List<MirrorSetEntry> entries, IReadOnlyList<ImageMirrors?>? list, FieldRef origin)
    {
        for (var i = 0; list is not null && i < list.Count; i++)
        {
            entries.Add(Entry(list[i]?.Source, list[i]?.Mirrors, list[i]?.MirrorSourcePolicy, origin.Index(i)));
        }
    }

    private static MirrorSetEntry Entry(string? source, IReadOnlyList<string?>? mirrors, string? policy, FieldRef origin) =>
        new(source ?? "", mirrors?.Select(m => m ?? "").ToList() ?? [], MirrorSourcePolicy.Normalize(policy), origin);

    private static void ValidateScopes(IReadOnlyList<ScopeEntry> scopes, string list, List<Problem> problems)
    {
        foreach (var scope in scopes)
        {
            if (!ScopeRules.IsValidRegistriesConfScope(scope.Scope))
            {
                problems.Add(Problem.Error(scope.Origin, $"invalid entry for {list} registries {GoQuote.Quote(scope.Scope)}"));
            }
        }
        WarnAboutUncleanScopes(scopes, problems);
    }

    // Q9: MCO accepts any scope without '*'; newer CRDs and containers/image's own reference rules
    // expect host[:port][/path] or *.domain.
    private static void WarnAboutUncleanScopes(IReadOnlyList<ScopeEntry> scopes, List<Problem> problems)
    {
        foreach (var scope in scopes)
        {
            if (scope.Scope.Length > 0 && !scope.Scope.Contains('*', StringComparison.Ordinal) && !ScopeRules.IsCleanScope(scope.Scope))
            {
                problems.Add(Problem.Warning(scope.Origin,
                    $"{GoQuote.Quote(scope.Scope)} is accepted as MCO accepts it, but it is not of the form host[:port][/path] or *.domain " +
                    "(a tag, digest, upper-case path or stray character); newer OpenShift API validation rejects it and it may never match a pull"));
            }
        }
    }

    private static void WarnAboutMergedOrder(IReadOnlyList<MergedMirrorSet> sets, IReadOnlyList<MirrorSetEntry> entries, List<Problem> problems)
    {
        var origins = FirstOrigins(entries);
        foreach (var set in sets)
        {
            var origin = origins[set.Source];
            if (set.CycleBroken)
            {
                problems.Add(Problem.Warning(origin,
                    $"mirror lists for {GoQuote.Quote(set.Source)} ask for contradictory orders; merged as MCO does to " +
                    $"[{string.Join(", ", set.Mirrors.Select(GoQuote.Quote))}]"));
            }
            if (set.Mirrors.Contains(set.Source, StringComparer.Ordinal))
            {
                problems.Add(Problem.Warning(origin,
                    $"the source {GoQuote.Quote(set.Source)} stays in its own merged mirror list, so it is contacted before the mirrors after it (as with MCO)"));
            }
        }
    }

    private static Dictionary<string, FieldRef> FirstOrigins(IEnumerable<MirrorSetEntry> entries)
    {
        var origins = new Dictionary<string, FieldRef>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            origins.TryAdd(entry.Source, entry.Origin.Child("source"));
        }
        return origins;
    }

    private static byte[]? SearchDropIn(IReadOnlyList<string?>? searchRegistries, List<Problem> problems)
    {
        if (searchRegistries is null)
        {
            return null;
        }
        var values = searchRegistries.Select(s => s ?? "").ToList();
        var origin = RegistrySources.Child("containerRuntimeSearchRegistries");
        for (var i = 0; i < values.Count; i++)
        {
            if (!ScopeRules.IsRegistryHost(values[i]))
            {
                // MCO writes it, but containers/image refuses the whole drop-in, so CRI-O would reject
                // the reload silently and fail at its next start: a deliberate deviation.
                problems.Add(Problem.Error(origin.Index(i),
                    $"{GoQuote.Quote(values[i])} is not a registry host[:port]: containers/image refuses a drop-in holding it " +
                    "(\"Invalid unqualified-search-registries entry\"), so CRI-O would keep its old configuration; write host[:port] (MCO writes it as it is)"));
            }
        }
        return RegistriesConfEncoder.EncodeSearchDropIn(values);
    }

    private static List<Problem> Deduplicate(List<Problem> problems)
    {
        var seen = new HashSet<Problem>();
        return problems.Where(seen.Add).ToList();
    }
}
