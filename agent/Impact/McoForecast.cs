using NodeAgent.Rendering;

namespace NodeAgent.Impact;

/// <summary>What the machine-config-operator would have done to the node for the same change.</summary>
public enum McoAction
{
    /// <summary>No file MCO manages changed.</summary>
    None,

    /// <summary><c>systemctl reload crio</c>, no drain.</summary>
    Reload,

    /// <summary>Cordon, drain every pod, reload CRI-O, uncordon.</summary>
    DrainAndReload,

    /// <summary>Cordon, drain, reboot.</summary>
    DrainAndReboot,
}

/// <summary>MCO's verdict and the first rule that decided it.</summary>
public sealed record McoVerdict(McoAction Action, string Reason);

/// <summary>
/// MCO's node-disruption rules for the files node-agent writes (node-apply.md, last section):
/// the search drop-in has no policy and reboots; policy.json reloads CRI-O; registries.conf
/// reloads CRI-O and drains unless MCO's <c>isSafeContainerRegistryConfChanges</c> finds the
/// change additive. CA files are node-ca's, never MCO's.
/// </summary>
public static class McoForecast
{
    /// <summary>
    /// <paramref name="before"/> and <paramref name="after"/> are the parsed registries.conf
    /// (null when it is absent or unreadable), consulted only when it changed.
    /// </summary>
    public static McoVerdict Decide(bool searchDropInChanged, bool registriesConfChanged, bool policyChanged,
        RegistriesConf? before, RegistriesConf? after)
    {
        if (searchDropInChanged)
        {
            return new McoVerdict(McoAction.DrainAndReboot,
                "the search-registries drop-in changed, and MCO has no disruption policy for it, so it reboots");
        }
        if (registriesConfChanged)
        {
            if (before is null || after is null)
            {
                return new McoVerdict(McoAction.DrainAndReload, "registries.conf was created or removed, so MCO could not compare it and drains");
            }
            return UnsafeRegistriesChange(before, after) is { } reason
                ? new McoVerdict(McoAction.DrainAndReload, reason)
                : new McoVerdict(McoAction.Reload, "only additive registries.conf changes (digest-only mirrors added, or mirrors reordered)");
        }
        return policyChanged
            ? new McoVerdict(McoAction.Reload, "policy.json changed, which MCO applies with a CRI-O reload")
            : new McoVerdict(McoAction.None, "no file MCO manages changed");
    }

    /// <summary>
    /// Null when MCO would skip the drain; otherwise the first rule the change breaks, in MCO's
    /// order: search list, removed scopes, then each scope of the new file.
    /// </summary>
    public static string? UnsafeRegistriesChange(RegistriesConf before, RegistriesConf after)
    {
        var oldSearch = before.UnqualifiedSearchRegistries;
        var newSearch = after.UnqualifiedSearchRegistries;
        if (oldSearch.Count > newSearch.Count || oldSearch.Where((entry, i) => newSearch[i] != entry).Any())
        {
            return "unqualified-search-registries lost or reordered an entry (only appending is safe)";
        }
        // MCO keys tables by scope in a map: a later table with the same scope replaces an earlier one.
        var oldByScope = ByScope(before.Registries);
        var newByScope = ByScope(after.Registries);
        foreach (var scope in oldByScope.Keys.Order(ByteOrder.Instance))
        {
            if (!newByScope.ContainsKey(scope))
            {
                return $"registry {scope} was removed";
            }
        }
        foreach (var (scope, entry) in newByScope.OrderBy(p => p.Key, ByteOrder.Instance))
        {
            var reason = oldByScope.TryGetValue(scope, out var old) ? UnsafeEntryChange(scope, old, entry) : UnsafeNewEntry(scope, entry);
            if (reason is not null)
            {
                return reason;
            }
        }
        return null;
    }

    private static string? UnsafeEntryChange(string scope, RegistryEntry old, RegistryEntry entry)
    {
        if (old.Prefix != entry.Prefix)
        {
            return $"registry {scope}: prefix changed";
        }
        if (old.Location != entry.Location)
        {
            return $"registry {scope}: location changed from {old.Location} to {entry.Location}";
        }
        if (old.Blocked != entry.Blocked)
        {
            return $"registry {scope}: blocked changed from {Bool(old.Blocked)} to {Bool(entry.Blocked)}";
        }
        if (old.Insecure != entry.Insecure)
        {
            return $"registry {scope}: insecure changed from {Bool(old.Insecure)} to {Bool(entry.Insecure)}";
        }
        foreach (var mirror in old.Mirrors)
        {
            if (Find(entry.Mirrors, mirror.Location) is null)
            {
                return $"registry {scope}: mirror {mirror.Location} was removed";
            }
        }
        foreach (var mirror in entry.Mirrors)
        {
            var previous = Find(old.Mirrors, mirror.Location);
            if (previous is not null && previous.PullFromMirror != mirror.PullFromMirror && mirror.PullFromMirror != MirrorEndpoint.DigestOnly)
            {
                return $"registry {scope}: mirror {mirror.Location} pull-from-mirror changed from {previous.EffectivePullFromMirror} to {mirror.EffectivePullFromMirror}";
            }
            if (previous is null && mirror.PullFromMirror != MirrorEndpoint.DigestOnly && !entry.MirrorByDigestOnly)
            {
                return $"registry {scope}: mirror {mirror.Location} was added for tag pulls too (pull-from-mirror {mirror.EffectivePullFromMirror})";
            }
        }
        return null;
    }

    private static string? UnsafeNewEntry(string scope, RegistryEntry entry)
    {
        var digestOnly = entry.Mirrors.Count == 0 ? entry.MirrorByDigestOnly : entry.Mirrors.All(m => m.PullFromMirror == MirrorEndpoint.DigestOnly);
        return digestOnly ? null
            : entry.Mirrors.Count == 0 ? $"registry {scope} was added without mirrors (an insecure or blocked entry)"
            : $"registry {scope} was added with a mirror that does not set pull-from-mirror = digest-only";
    }

    private static Dictionary<string, RegistryEntry> ByScope(IEnumerable<RegistryEntry> registries)
    {
        var map = new Dictionary<string, RegistryEntry>(StringComparer.Ordinal);
        foreach (var entry in registries)
        {
            map[entry.Scope] = entry;
        }
        return map;
    }

    private static MirrorEndpoint? Find(IEnumerable<MirrorEndpoint> mirrors, string location) =>
        mirrors.FirstOrDefault(m => m.Location == location);

    private static string Bool(bool value) => value ? "true" : "false";
}
