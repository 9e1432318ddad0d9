namespace NodeAgent.Rendering;

/// <summary>
/// MCO's <c>validateRegistriesConfScopes</c> for mirror sets: source and mirror formats, one
/// <c>mirrorSourcePolicy</c> per source across IDMS, ICSP and ITMS, and no NeverContactSource
/// source that is also its own mirror. Unlike MCO it reports every problem, not the first.
/// </summary>
public static class MirrorSetValidator
{
    public static void Validate(IEnumerable<MirrorSetEntry> entries, List<Problem> problems)
    {
        var policyBySource = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var sourceField = entry.Origin.Child("source");
            if (!ScopeRules.IsValidSource(entry.Source))
            {
                problems.Add(Problem.Error(sourceField, $"invalid format for source {GoQuote.Quote(entry.Source)}{Hint(entry.Source, "source")}"));
            }
            else if (!MirrorSourcePolicyIsKnown(entry, problems))
            {
                // Reported already; an unknown policy cannot take part in the conflict check.
            }
            else if (policyBySource.TryGetValue(entry.Source, out var earlier))
            {
                if (earlier != entry.Policy)
                {
                    problems.Add(Problem.Error(entry.Origin.Child("mirrorSourcePolicy"),
                        $"conflicting mirrorSourcePolicy is set for the same source {GoQuote.Quote(entry.Source)} in " +
                        "imagedigestmirrorsets, imagetagmirrorsets, or imagecontentsourcepolicies"));
                }
            }
            else
            {
                policyBySource[entry.Source] = entry.Policy;
            }

            for (var i = 0; i < entry.Mirrors.Count; i++)
            {
                var mirror = entry.Mirrors[i];
                var mirrorField = entry.Origin.Child("mirrors").Index(i);
                if (!ScopeRules.IsValidMirror(mirror))
                {
                    problems.Add(Problem.Error(mirrorField, $"invalid format for mirror {GoQuote.Quote(mirror)}{Hint(mirror, "mirror")}"));
                }
                else if (entry.Policy == Resources.MirrorSourcePolicy.NeverContactSource && mirror == entry.Source)
                {
                    problems.Add(Problem.Error(mirrorField,
                        $"cannot set mirrorSourcePolicy: NeverContactSource if the source {GoQuote.Quote(entry.Source)} is one of the mirrors"));
                }
            }

            if (entry.Policy == Resources.MirrorSourcePolicy.NeverContactSource && !entry.HasRealMirror)
            {
                problems.Add(Problem.Warning(entry.Origin.Child("mirrorSourcePolicy"),
                    $"NeverContactSource for {GoQuote.Quote(entry.Source)} is ignored because the entry has no mirror other than the source; " +
                    "the source is not blocked (as with MCO)"));
            }
        }
    }

    // MCO's message stops at "invalid format"; for the two mistakes people make most (a URL, an
    // image reference) node-agent says what to write instead.
    private static string Hint(string value, string what)
    {
        if (value.Contains("://", StringComparison.Ordinal))
        {
            return ": no scheme: write host[:port]/path";
        }
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var tagged = slash > 0 && value.IndexOf(':', slash) > slash;
        return tagged || value.Contains('@', StringComparison.Ordinal)
            ? $": a {what} names a repository, without a tag or digest"
            : "";
    }

    private static bool MirrorSourcePolicyIsKnown(MirrorSetEntry entry, List<Problem> problems)
    {
        if (Resources.MirrorSourcePolicy.IsKnown(entry.Policy))
        {
            return true;
        }
        problems.Add(Problem.Error(entry.Origin.Child("mirrorSourcePolicy"),
            $"unsupported mirrorSourcePolicy {GoQuote.Quote(entry.Policy)}: must be AllowContactingSource or NeverContactSource"));
        return false;
    }
}
