using NodeAgent.Rendering;

namespace NodeAgent.Impact;

/// <summary>One thing that changed for one <c>[[registry]]</c> scope.</summary>
/// <param name="Kind">Stable, for JSON: entry-added, entry-removed, location-changed, blocked,
/// unblocked, insecure, verified, digest-only-set, digest-only-unset, mirror-added,
/// mirror-removed, mirrors-reordered, mirror-pull-from-mirror, mirror-insecure, mirror-verified.</param>
/// <param name="Detail">The value it concerns, e.g. the mirror, or <c>all → digest-only</c>.</param>
public sealed record ScopeChange(string Kind, string Detail);

/// <summary>Where pulls of one kind of reference go, in the order they are tried.</summary>
/// <param name="Endpoints">Mirrors that serve this kind of reference, then the source unless blocked.</param>
/// <param name="SourceBlocked">The source is listed in the entry but never contacted.</param>
public sealed record PullOrder(IReadOnlyList<string> Endpoints, bool SourceBlocked)
{
    public static readonly PullOrder Direct = new([], false);

    public bool SameAs(PullOrder other) => SourceBlocked == other.SourceBlocked && Endpoints.SequenceEqual(other.Endpoints);
}

/// <summary>What a change does to pulls under one scope: the changes, and the pull order before and after.</summary>
public sealed record ScopeImpact(
    string Scope,
    IReadOnlyList<ScopeChange> Changes,
    PullOrder DigestBefore,
    PullOrder DigestAfter,
    PullOrder TagBefore,
    PullOrder TagAfter);

/// <summary>
/// Compares two registries.conf files scope by scope, the way containers/image would use them:
/// for each scope, what was added, removed or flipped, and where digest and tag pulls go.
/// </summary>
public static class PullImpact
{
    public static IReadOnlyList<ScopeImpact> Compare(RegistriesConf before, RegistriesConf after)
    {
        var old = ByScope(before.Registries);
        var current = ByScope(after.Registries);
        var impacts = new List<ScopeImpact>();
        foreach (var scope in old.Keys.Union(current.Keys).Order(ByteOrder.Instance))
        {
            old.TryGetValue(scope, out var was);
            current.TryGetValue(scope, out var now);
            var changes = Changes(was, now);
            if (changes.Count > 0)
            {
                impacts.Add(new ScopeImpact(scope, changes,
                    Order(scope, was, digested: true), Order(scope, now, digested: true),
                    Order(scope, was, digested: false), Order(scope, now, digested: false)));
            }
        }
        return impacts;
    }

    /// <summary>
    /// The endpoints containers/image tries for a reference under <paramref name="scope"/>, by
    /// their location. No entry: the reference's own registry.
    /// </summary>
    public static PullOrder Order(string scope, RegistryEntry? entry, bool digested)
    {
        if (entry is null)
        {
            return new PullOrder([scope], false);
        }
        var endpoints = entry.Mirrors.Where(m => RegistryMatcher.MirrorServes(entry, m, digested)).Select(m => m.Location).ToList();
        if (!entry.Blocked)
        {
            endpoints.Add(entry.Location.Length > 0 ? entry.Location : scope);
        }
        return new PullOrder(endpoints, entry.Blocked);
    }

    private static List<ScopeChange> Changes(RegistryEntry? was, RegistryEntry? now)
    {
        if (was is null)
        {
            return [new ScopeChange("entry-added", Describe(now!))];
        }
        if (now is null)
        {
            return [new ScopeChange("entry-removed", Describe(was))];
        }
        var changes = new List<ScopeChange>();
        if (was.Location != now.Location)
        {
            changes.Add(new ScopeChange("location-changed", $"{was.Location} → {now.Location}"));
        }
        Flag(changes, was.Blocked, now.Blocked, "blocked", "unblocked", now.Location);
        Flag(changes, was.Insecure, now.Insecure, "insecure", "verified", now.Location);
        Flag(changes, was.MirrorByDigestOnly, now.MirrorByDigestOnly, "digest-only-set", "digest-only-unset", "mirror-by-digest-only");
        var oldMirrors = was.Mirrors.ToDictionary(m => m.Location, StringComparer.Ordinal);
        var newMirrors = now.Mirrors.ToDictionary(m => m.Location, StringComparer.Ordinal);
        foreach (var mirror in now.Mirrors)
        {
            if (!oldMirrors.TryGetValue(mirror.Location, out var previous))
            {
                changes.Add(new ScopeChange("mirror-added", Describe(mirror)));
                continue;
            }
            if (previous.PullFromMirror != mirror.PullFromMirror)
            {
                changes.Add(new ScopeChange("mirror-pull-from-mirror", $"{mirror.Location}: {previous.EffectivePullFromMirror} → {mirror.EffectivePullFromMirror}"));
            }
            Flag(changes, previous.Insecure, mirror.Insecure, "mirror-insecure", "mirror-verified", mirror.Location);
        }
        changes.AddRange(was.Mirrors.Where(m => !newMirrors.ContainsKey(m.Location)).Select(m => new ScopeChange("mirror-removed", m.Location)));
        var kept = now.Mirrors.Select(m => m.Location).Where(oldMirrors.ContainsKey).ToList();
        if (!kept.SequenceEqual(was.Mirrors.Select(m => m.Location).Where(newMirrors.ContainsKey)))
        {
            changes.Add(new ScopeChange("mirrors-reordered", string.Join(", ", kept)));
        }
        return changes;
    }

    private static void Flag(List<ScopeChange> changes, bool was, bool now, string set, string unset, string detail)
    {
        if (was != now)
        {
            changes.Add(new ScopeChange(now ? set : unset, detail));
        }
    }

    private static string Describe(RegistryEntry entry)
    {
        var parts = new List<string>();
        if (entry.Mirrors.Count > 0)
        {
            parts.Add($"{entry.Mirrors.Count} mirror(s)");
        }
        if (entry.MirrorByDigestOnly)
        {
            parts.Add("mirror-by-digest-only");
        }
        if (entry.Blocked)
        {
            parts.Add("blocked");
        }
        if (entry.Insecure)
        {
            parts.Add("insecure");
        }
        return parts.Count == 0 ? entry.Location : string.Join(", ", parts);
    }

    private static string Describe(MirrorEndpoint mirror) =>
        mirror.Location + (mirror.PullFromMirror.Length > 0 ? $" ({mirror.PullFromMirror})" : "") + (mirror.Insecure ? " (insecure)" : "");

    // containers/image keeps the first table of a scope within one file.
    private static Dictionary<string, RegistryEntry> ByScope(IEnumerable<RegistryEntry> registries)
    {
        var map = new Dictionary<string, RegistryEntry>(StringComparer.Ordinal);
        foreach (var entry in registries)
        {
            map.TryAdd(entry.Scope, entry);
        }
        return map;
    }
}
