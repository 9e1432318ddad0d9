namespace NodeAgent.Rendering;

/// <summary>The blocked list split three ways, as MCO's <c>getValidBlockedAndAllowedRegistries</c> does.</summary>
public sealed record BlockedAndAllowed(
    IReadOnlyList<ScopeEntry> RegistriesBlocked,
    IReadOnlyList<ScopeEntry> PolicyBlocked,
    IReadOnlyList<string> PayloadAllowed);

/// <summary>
/// Keeps the cluster able to pull its own release payload: a blocked scope that contains the
/// payload repository is kept only while some pull source for the payload stays usable.
/// </summary>
public static class PayloadProtection
{
    public static BlockedAndAllowed Split(
        ImageReference? releaseImage,
        IReadOnlyList<ScopeEntry> insecure,
        IReadOnlyList<ScopeEntry> blocked,
        IReadOnlyList<MergedMirrorSet> digestSets,
        List<Problem> problems)
    {
        if (releaseImage is null)
        {
            return new BlockedAndAllowed(blocked, blocked, []);
        }
        var payloadRepo = releaseImage.Name;
        var registriesBlocked = new List<ScopeEntry>();
        var policyBlocked = new List<ScopeEntry>();
        var payloadAllowed = new List<string>();
        bool? usable = null;
        foreach (var scope in blocked)
        {
            if (!ScopeRules.IsNestedInside(payloadRepo, scope.Scope))
            {
                registriesBlocked.Add(scope);
                policyBlocked.Add(scope);
                continue;
            }
            usable ??= HasUsableSource(releaseImage, insecure, blocked, digestSets);
            if (!usable.Value)
            {
                problems.Add(Problem.Warning(scope.Origin,
                    $"error adding [{GoQuote.Quote(scope.Scope)}] to blocked registries, cannot block the repository being used by the payload " +
                    $"{GoQuote.Quote(payloadRepo)} (no unblocked mirror serves it); skipping this entry as MCO does"));
                continue;
            }
            registriesBlocked.Add(scope);
            if (scope.Scope != payloadRepo)
            {
                policyBlocked.Add(scope);
            }
            if (!payloadAllowed.Contains(payloadRepo, StringComparer.Ordinal))
            {
                payloadAllowed.Add(payloadRepo);
            }
        }
        return new BlockedAndAllowed(registriesBlocked, policyBlocked, payloadAllowed);
    }

    // MCO builds a throw-away registries.conf from the insecure list, the full blocked list and the
    // digest mirrors (the payload is pulled by digest), asks containers/image for the payload's
    // pull sources, and calls one usable when it is not inside any blocked scope.
    private static bool HasUsableSource(
        ImageReference releaseImage,
        IReadOnlyList<ScopeEntry> insecure,
        IReadOnlyList<ScopeEntry> blocked,
        IReadOnlyList<MergedMirrorSet> digestSets)
    {
        var scratch = new RegistriesConf();
        RegistriesEditor.Edit(scratch, insecure, blocked, digestSets, [], new Dictionary<string, FieldRef>(), []);
        var entry = RegistryMatcher.FindLongestPrefix(scratch.Registries, e => e, releaseImage.Name);
        foreach (var source in RegistryMatcher.PullSources(entry, releaseImage))
        {
            if (!blocked.Any(b => ScopeRules.IsNestedInside(source.Name, b.Scope)))
            {
                return true;
            }
        }
        return false;
    }
}
