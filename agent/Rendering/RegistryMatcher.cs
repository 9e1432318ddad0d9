namespace NodeAgent.Rendering;

/// <summary>One place a pull may be served from, in the order containers/image tries them.</summary>
public sealed record PullSource(string Reference, string Name, bool IsMirror, bool Insecure);

/// <summary>
/// How containers/image picks the <c>[[registry]]</c> for a reference (the longest matching
/// prefix, <c>*.domain</c> on the host part) and lists its pull sources.
/// </summary>
public static class RegistryMatcher
{
    /// <summary>
    /// containers/image <c>FindRegistry</c>: among the tables whose prefix matches, the one whose
    /// prefix <em>string</em> is longest, ties going to the first in byte order. Not the longest
    /// matched part: a <c>*.example.com</c> prefix and <c>a.example.com</c> cover the same text of
    /// <c>a.example.com/x</c>, and the longer string, the specific host, wins.
    /// </summary>
    public static T? FindLongestPrefix<T>(IEnumerable<T> registries, Func<T, RegistryEntry> entryOf, string name)
        where T : class
    {
        T? best = null;
        var bestLength = 0;
        foreach (var candidate in registries.OrderBy(r => entryOf(r).EffectivePrefix, ByteOrder.Instance))
        {
            var prefix = entryOf(candidate).EffectivePrefix;
            if (prefix.Length > bestLength && MatchLength(name, prefix) >= 0)
            {
                best = candidate;
                bestLength = prefix.Length;
            }
        }
        return best;
    }

    /// <summary>
    /// containers/image <c>refMatchingPrefix</c>: the length of <paramref name="reference"/> that
    /// <paramref name="prefix"/> covers, or -1. A match must end the string or be followed by
    /// <c>/</c>, <c>:</c> or <c>@</c>.
    /// </summary>
    public static int MatchLength(string reference, string prefix)
    {
        if (ScopeRules.IsWildcard(prefix))
        {
            var domain = prefix[1..];
            var index = reference.IndexOf(domain, StringComparison.Ordinal);
            if (index < 0 || reference.AsSpan(0, index).Contains('/'))
            {
                return -1;
            }
            index += domain.Length;
            return index == reference.Length || reference[index] is ':' or '/' or '@' ? index : -1;
        }
        if (reference.Length < prefix.Length || !reference.StartsWith(prefix, StringComparison.Ordinal))
        {
            return -1;
        }
        if (reference.Length == prefix.Length)
        {
            return prefix.Length;
        }
        return reference[prefix.Length] is ':' or '/' or '@' ? prefix.Length : -1;
    }

    /// <summary>
    /// containers/image <c>PullSourcesFromReference</c>: the mirrors usable for this kind of
    /// reference (digest or tag), each with the matched prefix replaced, then the primary location.
    /// </summary>
    public static IReadOnlyList<PullSource> PullSources(RegistryEntry? entry, ImageReference reference)
    {
        var text = reference.ToString();
        if (entry is null)
        {
            return [new PullSource(text, reference.Name, IsMirror: false, Insecure: false)];
        }
        var prefixLength = MatchLength(text, entry.EffectivePrefix);
        var sources = new List<PullSource>();
        foreach (var mirror in entry.Mirrors)
        {
            if (!MirrorServes(entry, mirror, reference.IsDigested))
            {
                continue;
            }
            sources.Add(Rewrite(mirror.Location, text, prefixLength, isMirror: true, mirror.Insecure));
        }
        sources.Add(entry.Location.Length == 0
            ? new PullSource(text, reference.Name, IsMirror: false, entry.Insecure)
            : Rewrite(entry.Location, text, prefixLength, isMirror: false, entry.Insecure));
        return sources;
    }

    /// <summary>Whether <paramref name="mirror"/> is tried for a digest (else a tag) reference.</summary>
    public static bool MirrorServes(RegistryEntry entry, MirrorEndpoint mirror, bool digested) =>
        SkipReason(entry, mirror, digested) is null;

    /// <summary>Why containers/image leaves <paramref name="mirror"/> out for a digest or a tag reference; null when it uses it.</summary>
    public static string? SkipReason(RegistryEntry entry, MirrorEndpoint mirror, bool digested)
    {
        if (digested)
        {
            return mirror.PullFromMirror == MirrorEndpoint.TagOnly ? "tag-only mirror, digest reference" : null;
        }
        if (entry.MirrorByDigestOnly)
        {
            return "mirror-by-digest-only registry, tag reference";
        }
        return mirror.PullFromMirror == MirrorEndpoint.DigestOnly ? "digest-only mirror, tag reference" : null;
    }

    private static PullSource Rewrite(string location, string text, int prefixLength, bool isMirror, bool insecure)
    {
        var rewritten = location + text[prefixLength..];
        // containers/image re-parses the rewritten reference; one that does not parse cannot be
        // pulled, and its text is the best name to report.
        var name = ImageReference.TryParse(rewritten, out var parsed) ? parsed.Name : rewritten;
        return new PullSource(rewritten, name, isMirror, insecure);
    }
}
