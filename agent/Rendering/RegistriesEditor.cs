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

        foreach (var insecure in insecureScopes)
        {
            GetOrCreate(insecure.Scope).Insecure = true;
            foreach (var entry in _config.Registries)
            {
                if (ScopeRules.IsNestedInside(entry.Scope, insecure.Scope))
                {
                    entry.Insecure = true;
                }
                for (var i = 0; i < entry.Mirrors.Count; i++)
                {
                    var mirror = entry.Mirrors[i];
                    if (ScopeRules.IsNestedInside(mirror.Location, insecure.Scope))
                    {
                        entry.Mirrors[i] = mirror with { Insecure = true };
                    }
                }
            }
        }

        foreach (var blocked in blockedScopes)
        {
            GetOrCreate(blocked.Scope).Blocked = true;
            foreach (var entry in _config.Registries)
            {
                if (ScopeRules.IsNestedInside(entry.Scope, blocked.Scope))
                {
                    entry.Blocked = true;
                }
            }
        }

        InheritMirrors(digestSets, sourceOrigins);
        InheritMirrors(tagSets, sourceOrigins);
    }

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

    // A nested scope without mirrors of its own would otherwise hide the parent's mirrors,
    // because containers/image uses only the longest matching prefix.
    // Only an entry without mirrors can inherit, and an entry never loses its mirrors, so the
    // candidates are collected once instead of scanning every entry for every set (quadratic in
    // the number of sources). Every set's entry exists since AddMirrors, so GetOrCreate adds none.
    private void InheritMirrors(IReadOnlyList<MergedMirrorSet> sets, IReadOnlyDictionary<string, FieldRef> sourceOrigins)
    {
        var withoutMirrors = _config.Registries.Where(e => e.Mirrors.Count == 0).ToList();
        foreach (var set in sets)
        {
            var parent = GetOrCreate(set.Source);
            var parentScope = parent.Scope;
            foreach (var child in withoutMirrors)
            {
                var childScope = child.Scope;
                if (childScope == parentScope || child.Mirrors.Count > 0 || !ScopeRules.IsNestedInside(childScope, parentScope))
                {
                    continue;
                }
                var origin = sourceOrigins.TryGetValue(set.Source, out var o) ? o : new FieldRef("registries", "");
                if (ScopeRules.IsWildcard(parentScope))
                {
                    _problems.Add(Problem.Error(origin,
                        $"internal error: mirrorsAdjustedForNestedScope for a wildcard scope {GoQuote.Quote(parentScope)} " +
                        $"(the nested scope {GoQuote.Quote(childScope)} has no mirrors of its own; MCO cannot render this)"));
                    continue;
                }
                var suffix = childScope[parentScope.Length..];
                child.MirrorByDigestOnly = parent.MirrorByDigestOnly;
                child.Mirrors = WithSuffix(parent.Mirrors, suffix);
                if (set.NeverContactSource && !child.Blocked)
                {
                    _problems.Add(Problem.Warning(origin,
                        $"{GoQuote.Quote(childScope)} inherits the mirrors of NeverContactSource source {GoQuote.Quote(parentScope)} " +
                        "but is not blocked, so pulls may still reach it directly (as with MCO)"));
                }
            }
        }
    }

    // A method of its own: a lambda capturing the suffix would allocate its closure on every pass
    // of the loop above, matched or not.
    private static List<MirrorEndpoint> WithSuffix(List<MirrorEndpoint> mirrors, string suffix) =>
        mirrors.ConvertAll(m => m with { Location = m.Location + suffix });

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
