namespace NodeAgent.Rendering;

/// <summary>A scope from a registrySources list, with where it came from.</summary>
public sealed record ScopeEntry(string Scope, FieldRef Origin);

/// <summary>
/// runtime-utils <c>EditRegistriesConfig</c>: turns merged mirror sets and the insecure and blocked
/// scopes into <c>[[registry]]</c> entries, step by step in upstream's order, because the order of
/// the steps decides which entries exist when flags and mirrors propagate to nested scopes.
/// </summary>
public sealed class RegistriesEditor
{
    private readonly RegistriesConf _config;
    private readonly List<Problem> _problems;
    private readonly Dictionary<string, RegistryEntry> _byScope = new(StringComparer.Ordinal);

    private RegistriesEditor(RegistriesConf config, List<Problem> problems)
    {
        _config = config;
        _problems = problems;
        foreach (var entry in config.Registries)
        {
            _byScope.TryAdd(entry.Scope, entry);
        }
    }

    /// <summary>Edits <paramref name="config"/> in place; problems found on the way are appended.</summary>
    public static void Edit(
        RegistriesConf config,
        IReadOnlyList<ScopeEntry> insecureScopes,
        IReadOnlyList<ScopeEntry> blockedScopes,
        IReadOnlyList<MergedMirrorSet> digestSets,
        IReadOnlyList<MergedMirrorSet> tagSets,
        IReadOnlyDictionary<string, FieldRef> sourceOrigins,
        List<Problem> problems)
    {
        var editor = new RegistriesEditor(config, problems);
        editor.Run(insecureScopes, blockedScopes, digestSets, tagSets, sourceOrigins);
    }

    private void Run(
        IReadOnlyList<ScopeEntry> insecureScopes,
        IReadOnlyList<ScopeEntry> blockedScopes,
        IReadOnlyList<MergedMirrorSet> digestSets,
        IReadOnlyList<MergedMirrorSet> tagSets,
        IReadOnlyDictionary<string, FieldRef> sourceOrigins)
    {
        AddMirrors(digestSets, MirrorEndpoint.DigestOnly);
        AddMirrors(tagSets, MirrorEndpoint.TagOnly);

        // Blocked entries exist before the insecure pass so nested blocked scopes can become insecure too.
        foreach (var blocked in blockedScopes)
        {
            GetOrCreate(blocked.Scope);
        }

        // Upstream loops over every entry for every scope. The flags only ever turn on, and no entry
        // appears after these passes, so the result is: an entry (or mirror) is insecure when it is
        // nested inside any insecure scope, and blocked likewise. Set lookups of the enclosing
        // scopes give exactly that in linear time, where a list of 100,000 scopes took minutes.
        var insecure = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scope in insecureScopes)
        {
            GetOrCreate(scope.Scope);
            insecure.Add(scope.Scope);
        }
        var blockedSet = new HashSet<string>(blockedScopes.Select(b => b.Scope), StringComparer.Ordinal);
        foreach (var entry in _config.Registries)
        {
            if (insecure.Count > 0)
            {
                entry.Insecure |= IsInside(entry.Scope, insecure);
                for (var i = 0; i < entry.Mirrors.Count; i++)
                {
                    if (!entry.Mirrors[i].Insecure && IsInside(entry.Mirrors[i].Location, insecure))
                    {
                        entry.Mirrors[i] = entry.Mirrors[i] with { Insecure = true };
                    }
                }
            }
            entry.Blocked |= blockedSet.Count > 0 && IsInside(entry.Scope, blockedSet);
        }

        InheritMirrors(digestSets.Concat(tagSets).ToList(), sourceOrigins);
    }

    private static bool IsInside(string scope, HashSet<string> scopes) =>
        ScopeRules.EnclosingScopes(scope).Any(scopes.Contains);

    private void AddMirrors(IReadOnlyList<MergedMirrorSet> sets, string pullFromMirror)
    {
        foreach (var set in sets)
        {
            var entry = GetOrCreate(set.Source);
            if (set.NeverContactSource)
            {
                entry.Blocked = true;
            }
            foreach (var mirror in set.Mirrors)
            {
                entry.Mirrors.Add(new MirrorEndpoint(mirror, Insecure: false, pullFromMirror));
            }
        }
    }

    // A nested scope without mirrors of its own would otherwise hide the parent's mirrors, because
    // containers/image uses only the longest matching prefix. Upstream walks the merged sets
    // (digest, then tag, each in byte order) and gives every mirror-less entry nested in the set's
    // source a copy of that source's mirrors; an entry that received some is skipped later. So an
    // entry inherits from the first enclosing source in that order, which is what is looked up here.
    private void InheritMirrors(List<MergedMirrorSet> sets, IReadOnlyDictionary<string, FieldRef> sourceOrigins)
    {
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < sets.Count; i++)
        {
            order.TryAdd(sets[i].Source, i);
        }
        if (order.Count == 0)
        {
            return;
        }
        FieldRef Origin(string source) => sourceOrigins.TryGetValue(source, out var origin) ? origin : new FieldRef(source, "");
        var reportedWildcards = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in _config.Registries)
        {
            if (child.Mirrors.Count > 0)
            {
                continue;
            }
            var childScope = child.Scope;
            var parents = ScopeRules.EnclosingScopes(childScope)
                .Where(candidate => candidate != childScope && order.ContainsKey(candidate))
                .Select(candidate => order[candidate]).Distinct().Order().ToList();
            // A wildcard parent cannot lend its mirrors (an error, Q6); the entry stays without
            // mirrors and the next enclosing source in order is tried, as upstream's walk would.
            MergedMirrorSet? lender = null;
            foreach (var index in parents)
            {
                if (!ScopeRules.IsWildcard(sets[index].Source))
                {
                    lender = sets[index];
                    break;
                }
                if (reportedWildcards.Add(sets[index].Source))
                {
                    _problems.Add(Problem.Error(Origin(sets[index].Source),
                        $"internal error: mirrorsAdjustedForNestedScope for a wildcard scope {GoQuote.Quote(sets[index].Source)} " +
                        $"(the nested scope {GoQuote.Quote(childScope)} has no mirrors of its own; MCO cannot render this)"));
                }
            }
            if (lender is null)
            {
                continue;
            }
            var parent = _byScope[lender.Source];
            var suffix = childScope[parent.Scope.Length..];
            child.MirrorByDigestOnly = parent.MirrorByDigestOnly;
            child.Mirrors = parent.Mirrors.Select(m => m with { Location = m.Location + suffix }).ToList();
            if (lender.NeverContactSource && !child.Blocked)
            {
                _problems.Add(Problem.Warning(Origin(lender.Source),
                    $"{GoQuote.Quote(childScope)} inherits the mirrors of NeverContactSource source {GoQuote.Quote(parent.Scope)} " +
                    "but is not blocked, so pulls may still reach it directly (as with MCO)"));
            }
        }
    }

    // Upstream scans the list for the first entry with this scope; scopes are unique here, so an
    // index gives the same answer without the quadratic scan.
    private RegistryEntry GetOrCreate(string scope)
    {
        if (_byScope.TryGetValue(scope, out var existing))
        {
            return existing;
        }
        var created = ScopeRules.IsWildcard(scope)
            ? new RegistryEntry { Prefix = scope }
            : new RegistryEntry { Location = scope };
        _config.Registries.Add(created);
        _byScope[scope] = created;
        return created;
    }
}
