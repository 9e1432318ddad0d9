using NodeAgent.Rendering;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// The registries edit written the way upstream's loops read (registries.md §2.4.5–§2.4.7):
/// scan every entry for every scope, walk every merged set for nested entries. Slow and plain,
/// it is the oracle the optimised <see cref="RegistriesEditor"/> is compared with.
/// </summary>
internal static class ReferenceEditor
{
    public static (RegistriesConf Config, List<string> Errors) Edit(
        IReadOnlyList<string> insecureScopes, IReadOnlyList<string> blockedScopes,
        IReadOnlyList<MergedMirrorSet> digestSets, IReadOnlyList<MergedMirrorSet> tagSets)
    {
        var config = new RegistriesConf();
        var errors = new List<string>();
        RegistryEntry Get(string scope)
        {
            foreach (var existing in config.Registries)
            {
                if (existing.Scope == scope)
                {
                    return existing;
                }
            }
            var created = scope.StartsWith("*.", StringComparison.Ordinal) ? new RegistryEntry { Prefix = scope } : new RegistryEntry { Location = scope };
            config.Registries.Add(created);
            return created;
        }
        foreach (var (sets, pull) in new[] { (digestSets, MirrorEndpoint.DigestOnly), (tagSets, MirrorEndpoint.TagOnly) })
        {
            foreach (var set in sets)
            {
                var entry = Get(set.Source);
                entry.Blocked |= set.NeverContactSource;
                entry.Mirrors.AddRange(set.Mirrors.Select(m => new MirrorEndpoint(m, false, pull)));
            }
        }
        foreach (var scope in blockedScopes)
        {
            Get(scope);
        }
        foreach (var scope in insecureScopes)
        {
            Get(scope).Insecure = true;
            foreach (var entry in config.Registries)
            {
                if (ScopeRules.IsNestedInside(entry.Scope, scope))
                {
                    entry.Insecure = true;
                }
                for (var i = 0; i < entry.Mirrors.Count; i++)
                {
                    if (ScopeRules.IsNestedInside(entry.Mirrors[i].Location, scope))
                    {
                        entry.Mirrors[i] = entry.Mirrors[i] with { Insecure = true };
                    }
                }
            }
        }
        foreach (var scope in blockedScopes)
        {
            Get(scope).Blocked = true;
            foreach (var entry in config.Registries)
            {
                if (ScopeRules.IsNestedInside(entry.Scope, scope))
                {
                    entry.Blocked = true;
                }
            }
        }
        foreach (var set in digestSets.Concat(tagSets))
        {
            var parent = Get(set.Source);
            foreach (var child in config.Registries)
            {
                if (child.Scope == parent.Scope || child.Mirrors.Count > 0 || !ScopeRules.IsNestedInside(child.Scope, parent.Scope))
                {
                    continue;
                }
                if (parent.Scope.StartsWith("*.", StringComparison.Ordinal))
                {
                    errors.Add(parent.Scope);
                    continue;
                }
                var suffix = child.Scope[parent.Scope.Length..];
                child.Mirrors = parent.Mirrors.Select(m => m with { Location = m.Location + suffix }).ToList();
            }
        }
        return (config, errors);
    }
}
