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
/// <remarks>
/// Deliberate deviation from MCO: when the check cannot be finished (a pull source of the release
/// image is not a valid reference, or the scratch registries.conf cannot be built or loaded), MCO
/// logs the error and renders with no blocked and no allowed registries at all. node-agent reports
/// an error for each blocked scope that contains the payload instead, so nothing is written.
/// </remarks>
public static class PayloadProtection
{
    public static BlockedAndAllowed Split(
        ImageReference? releaseImage,
        FieldRef releaseOrigin,
        IReadOnlyList<ScopeEntry> insecure,
        IReadOnlyList<ScopeEntry> blocked,
        IReadOnlyList<MergedMirrorSet> digestSets,
        IReadOnlyList<MirrorSetEntry> digestEntries,
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
        CheckResult? check = null;
        foreach (var scope in blocked)
        {
            if (!ScopeRules.IsNestedInside(payloadRepo, scope.Scope))
            {
                registriesBlocked.Add(scope);
                policyBlocked.Add(scope);
                continue;
            }
            check ??= Check(releaseImage, insecure, blocked, digestSets, digestEntries);
            if (check.Failure is { } failure)
            {
                // Left out of both lists, as an unusable payload scope is, so that what follows
                // reports only the input's other problems and not consequences of this one.
                problems.Add(Problem.Error(scope.Origin,
                    $"cannot block {GoQuote.Quote(scope.Scope)}: it contains the release image {GoQuote.Quote(releaseImage.ToString())} " +
                    $"({releaseOrigin}), and {failure.Why}. MCO cannot finish its payload check here and then applies no blocked " +
                    $"and no allowed registries at all; node-agent refuses the input instead. {failure.Fix}"));
                continue;
            }
            if (!check.Usable)
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

    private sealed record CheckResult(bool Usable, CheckFailure? Failure);

    /// <summary>Why the check cannot be finished (a clause after "and"), and what to change.</summary>
    private sealed record CheckFailure(string Why, string Fix);

    // MCO builds a throw-away registries.conf from the insecure list, the full blocked list and the
    // digest mirrors (the payload is pulled by digest), loads it with containers/image, asks for the
    // payload's pull sources, and calls one usable when it is not inside any blocked scope. Any
    // error on that way ends MCO's check; each is a failure here, named with the input behind it.
    private static CheckResult Check(
        ImageReference releaseImage,
        IReadOnlyList<ScopeEntry> insecure,
        IReadOnlyList<ScopeEntry> blocked,
        IReadOnlyList<MergedMirrorSet> digestSets,
        IReadOnlyList<MirrorSetEntry> digestEntries)
    {
        var sourceOrigins = new Dictionary<string, FieldRef>(StringComparer.Ordinal);
        foreach (var entry in digestEntries)
        {
            sourceOrigins.TryAdd(entry.Source, entry.Origin.Child("source"));
        }
        var scratch = new RegistriesConf();
        var editProblems = new List<Problem>();
        RegistriesEditor.Edit(scratch, insecure, blocked, digestSets, [], sourceOrigins, editProblems);
        if (editProblems.FirstOrDefault(p => p.IsError) is { } editError)
        {
            return Failed($"the registries.conf its pull sources are looked up in cannot be built: {editError.Where}: {editError.Message}",
                "Give the nested scope mirrors of its own, or remove it or the wildcard mirror source.");
        }

        var scopeOrigins = new Dictionary<string, FieldRef>(StringComparer.Ordinal);
        foreach (var scope in blocked.Concat(insecure))
        {
            scopeOrigins.TryAdd(scope.Scope, scope.Origin);
        }
        foreach (var (source, origin) in sourceOrigins)
        {
            scopeOrigins.TryAdd(source, origin);
        }
        string Describe(RegistryEntry entry) =>
            scopeOrigins.TryGetValue(entry.Scope, out var origin) ? $"{GoQuote.Quote(entry.Scope)} ({origin})" : GoQuote.Quote(entry.Scope);
        if (Load(scratch.Registries, Describe, out var loaded) is { } loadError)
        {
            return Failed($"the registries.conf its pull sources are looked up in does not load in containers/image: {loadError.Why}",
                loadError.Fix);
        }

        var match = RegistryMatcher.FindLongestPrefix(loaded, l => l.Entry, releaseImage.Name);
        var sources = RegistryMatcher.PullSources(match?.Entry, releaseImage);
        if (InvalidRewrites(releaseImage, match, sources, digestEntries) is { } invalid)
        {
            return new CheckResult(false, invalid);
        }
        var usable = sources.Any(s => !blocked.Any(b => ScopeRules.IsNestedInside(s.Name, b.Scope)));
        return new CheckResult(usable, null);
    }

    private static CheckResult Failed(string why, string fix) => new(false, new CheckFailure(why, fix));

    /// <summary>A scratch entry as containers/image loaded it, and the entry it was written from.</summary>
    private sealed record LoadedEntry(RegistryEntry Entry, RegistryEntry Written);

    // containers/image rewrites every pull source before it tries one, and a rewrite that does not
    // parse as a reference fails the whole pull: the valid mirrors after it are never tried.
    private static CheckFailure? InvalidRewrites(
        ImageReference releaseImage,
        LoadedEntry? match,
        IReadOnlyList<PullSource> sources,
        IReadOnlyList<MirrorSetEntry> digestEntries)
    {
        var matched = match?.Entry;
        var matchedScope = match?.Written.Scope;
        var mirrors = matched?.Mirrors.Where(m => RegistryMatcher.MirrorServes(matched, m, releaseImage.IsDigested)).ToList() ?? [];
        var reasons = new List<string>();
        var validMirrors = new List<string>();
        for (var i = 0; i < sources.Count; i++)
        {
            var invalid = ImageReference.WhyInvalid(sources[i].Reference);
            var what = sources[i].IsMirror
                ? $"mirror {GoQuote.Quote(mirrors[i].Location)}{MirrorOrigin(mirrors[i].Location, matchedScope, digestEntries)}"
                : $"the registry location {GoQuote.Quote(matched?.Location ?? "")}";
            if (invalid is not null)
            {
                reasons.Add($"{what} rewrites it to {GoQuote.Quote(sources[i].Reference)}, {invalid}");
            }
            else if (sources[i].IsMirror)
            {
                validMirrors.Add(GoQuote.Quote(mirrors[i].Location));
            }
        }
        if (reasons.Count == 0)
        {
            return null;
        }
        var why = "no pull source can serve that image: " + string.Join("; ", reasons);
        if (validMirrors.Count > 0)
        {
            why += "; containers/image rewrites every pull source before it tries one, so an invalid rewrite fails the whole pull, and " +
                (validMirrors.Count == 1 ? $"mirror {validMirrors[0]} is never tried" : $"mirrors {string.Join(", ", validMirrors)} are never tried");
        }
        var fix = reasons.Count == 1
            ? "Correct or remove that mirror: while it is listed, every pull of the release image fails, blocked or not."
            : "Correct or remove those mirrors: while they are listed, every pull of the release image fails, blocked or not.";
        return new CheckFailure(why, fix);
    }

    // The mirror set entry that put this mirror on the matched entry: directly, or by inheritance
    // from an enclosing source with the path suffix appended.
    private static string MirrorOrigin(string mirror, string? matchedScope, IReadOnlyList<MirrorSetEntry> digestEntries)
    {
        if (matchedScope is null)
        {
            return "";
        }
        foreach (var entry in digestEntries)
        {
            if (!ScopeRules.IsNestedInside(matchedScope, entry.Source) || (entry.Source != matchedScope && ScopeRules.IsWildcard(entry.Source)))
            {
                continue;
            }
            var suffix = matchedScope[entry.Source.Length..];
            for (var j = 0; j < entry.Mirrors.Count; j++)
            {
                if ((entry.Mirrors[j] + suffix).TrimEnd('/') == mirror)
                {
                    return $" ({entry.Origin.Child("mirrors").Index(j)})";
                }
            }
        }
        return "";
    }

    /// <summary>
    /// containers/image <c>postProcessRegistries</c> on the scratch config: locations, prefixes and
    /// mirror locations lose a trailing <c>/</c>, <c>http://</c> and <c>https://</c> are refused,
    /// and tables sharing a location must agree on insecure and blocked. The failure is its message
    /// with the entries behind it; null when the config loads, with the entries as loaded.
    /// </summary>
    private static CheckFailure? Load(IReadOnlyList<RegistryEntry> entries, Func<RegistryEntry, string> describe, out List<LoadedEntry> loaded)
    {
        loaded = [];
        foreach (var entry in entries)
        {
            var at = $" (the [[registry]] of {describe(entry)})";
            const string FixScope = "Correct that scope.";
            if (ParseLocation(entry.Location, out var location) is { } locationError)
            {
                return new CheckFailure(locationError + at, FixScope);
            }
            string prefix;
            if (entry.Prefix.Length == 0)
            {
                if (location.Length == 0)
                {
                    return new CheckFailure("invalid condition: both location and prefix are unset" + at, FixScope);
                }
                prefix = location;
            }
            else
            {
                if (ParseLocation(entry.Prefix, out prefix) is { } prefixError)
                {
                    return new CheckFailure(prefixError + at, FixScope);
                }
                if (!ScopeRules.IsWildcard(prefix) && location.Length == 0)
                {
                    return new CheckFailure("invalid condition: location is unset and prefix is not in the format: *.example.com" + at, FixScope);
                }
            }
            var mirrors = new List<MirrorEndpoint>();
            foreach (var mirror in entry.Mirrors)
            {
                var ofMirror = $" (mirror {GoQuote.Quote(mirror.Location)} of the [[registry]] of {describe(entry)})";
                if (ParseLocation(mirror.Location, out var mirrorLocation) is { } mirrorError)
                {
                    return new CheckFailure(mirrorError + ofMirror, "Correct that mirror.");
                }
                if (mirrorLocation.Length == 0)
                {
                    return new CheckFailure("invalid condition: mirror location is unset" + ofMirror, "Correct that mirror.");
                }
                mirrors.Add(mirror with { Location = mirrorLocation });
            }
            loaded.Add(new LoadedEntry(new RegistryEntry
            {
                Prefix = prefix,
                Location = location,
                Insecure = entry.Insecure,
                Blocked = entry.Blocked,
                MirrorByDigestOnly = entry.MirrorByDigestOnly,
                Mirrors = mirrors,
            }, entry));
        }

        var byKey = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < loaded.Count; i++)
        {
            var key = Key(loaded[i].Entry);
            if (!byKey.TryGetValue(key, out var group))
            {
                group = [];
                byKey[key] = group;
            }
            group.Add(i);
        }
        for (var i = 0; i < loaded.Count; i++)
        {
            var (entry, first) = (loaded[i].Entry, loaded[i].Written);
            foreach (var other in byKey[Key(entry)])
            {
                var setting = entry.Insecure != loaded[other].Entry.Insecure ? "insecure"
                    : entry.Blocked != loaded[other].Entry.Blocked ? "blocked" : null;
                if (setting is not null)
                {
                    return new CheckFailure(
                        $"registry '{entry.Location}' is defined multiple times with conflicting '{setting}' setting " +
                        $"({describe(first)} and {describe(loaded[other].Written)} are one location there, which drops a trailing \"/\")",
                        "Write those scopes the same way, without a trailing \"/\".");
                }
            }
        }
        return null;
    }

    private static string Key(RegistryEntry entry) => entry.Location.Length > 0 ? entry.Location : entry.Prefix;

    private static string? ParseLocation(string input, out string location)
    {
        location = input.TrimEnd('/');
        return location.StartsWith("http://", StringComparison.Ordinal) || location.StartsWith("https://", StringComparison.Ordinal)
            ? $"invalid location '{input}': URI schemes are not supported"
            : null;
    }
}
