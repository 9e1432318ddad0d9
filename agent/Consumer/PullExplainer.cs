using NodeAgent.Rendering;

namespace NodeAgent.Consumer;

/// <summary>Everything containers/image would read on the node, already loaded.</summary>
/// <param name="Policy">null when policy.json does not exist.</param>
/// <param name="CachedAliases">The machine-written short-name aliases (<c>var/cache/containers/short-name-aliases.conf</c>), which win over registries.conf's.</param>
/// <param name="Certs">The certs.d choice for a registry <c>host[:port]</c>.</param>
public sealed record ConsumerInputs(
    string Root,
    RegistriesConfiguration Registries,
    FromFile<PolicyDocument>? Policy,
    string PolicyPath,
    FromFile<IReadOnlyDictionary<string, string>>? CachedAliases,
    Func<string, CertsChoice> Certs);

/// <summary>An IMAGE argument that is not an image reference.</summary>
public sealed class InvalidReferenceException(string message) : Exception(message);

/// <summary>
/// Answers "where does a pull of IMAGE go, and is it allowed?" the way containers/image (CRI-O,
/// podman, skopeo) decides it: short-name resolution, the matching <c>[[registry]]</c>, the pull
/// sources in order with what each is refused for, the certs.d directory of each host, and the
/// policy.json verdict. Pure: the caller loads the files.
/// </summary>
public static class PullExplainer
{
    private const string Latest = "latest";

    public static Explanation Explain(string input, ConsumerInputs inputs)
    {
        if (!DockerReference.TryParse(input, out var reference, out var error))
        {
            throw new InvalidReferenceException($"{GoQuote.Quote(input)}: {error}");
        }
        var notes = new List<string>();
        if (reference.Tag is not null && reference.Digest is not null)
        {
            notes.Add($"both a tag and a digest: containers/image's docker transport refuses such a reference (skopeo fails); " +
                $"tools that accept it pull by digest, so the tag \"{reference.Tag}\" is ignored here");
            reference = reference with { Tag = null };
        }
        if (reference.Tag is null && reference.Digest is null)
        {
            notes.Add($"no tag or digest: \":{Latest}\" is implied");
            reference = reference with { Tag = Latest };
        }

        ShortNameResolution? shortName = null;
        List<DockerReference> candidates;
        if (reference.IsShortName)
        {
            (shortName, candidates) = ResolveShortName(reference, inputs);
        }
        else
        {
            var normalized = reference.Normalized();
            if (normalized.Name != reference.Name)
            {
                notes.Add($"{reference.Name} is {normalized.Name} (Docker Hub names are normalised before anything is looked up)");
            }
            candidates = [normalized];
        }

        var explained = candidates.Select(c => ExplainCandidate(c, inputs)).ToList();
        var files = new ExplainedFiles(inputs.Registries.Files, inputs.Policy?.Origin, inputs.CachedAliases?.Origin);
        return new Explanation(input, inputs.Root, files, notes, shortName, explained, inputs.Registries.Warnings);
    }

    // pkg/shortnames: an alias (the machine-written cache first) gives one candidate; otherwise
    // each unqualified-search registry in order, subject to short-name-mode.
    private static (ShortNameResolution, List<DockerReference>) ResolveShortName(DockerReference reference, ConsumerInputs inputs)
    {
        var registries = inputs.Registries;
        var name = reference.Path;
        var mode = registries.ShortNameMode?.Value ?? "";
        var effectiveMode = mode.Length == 0 ? "permissive" : mode;
        var search = registries.UnqualifiedSearchRegistries?.Value ?? [];

        FromFile<string>? alias = null;
        if (inputs.CachedAliases is { } cached && cached.Value.TryGetValue(name, out var cachedValue))
        {
            alias = new FromFile<string>(cachedValue, cached.Origin);
        }
        else if (registries.Aliases.TryGetValue(name, out var configured))
        {
            alias = configured;
        }

        if (alias is { Value.Length: > 0 } && DockerReference.TryParse(alias.Value, out var aliased, out _))
        {
            var candidate = aliased.Normalized() with { Tag = reference.Tag, Digest = reference.Digest };
            return (new ShortNameResolution(name, effectiveMode, registries.ShortNameMode?.Origin, alias.Value, alias.Origin, search,
                registries.UnqualifiedSearchRegistries?.Origin, $"the alias in {alias.Origin} decides: {candidate}; the search registries are not used"),
                [candidate]);
        }

        var candidates = search.Select(s => new DockerReference(s, name, reference.Tag, reference.Digest).Normalized()).ToList();
        var outcome = candidates.Count switch
        {
            0 => $"the pull fails: short-name {GoQuote.Quote(name)} did not resolve to an alias and no unqualified-search registries are defined",
            1 => "one candidate: the only search registry",
            _ when effectiveMode == "enforcing" =>
                "short-name-mode is enforcing: with a TTY (podman) the user picks a candidate; without one (CRI-O, scripts) the pull fails: " +
                "short-name resolution enforced but cannot prompt without a TTY",
            _ => $"{effectiveMode}: the candidates are tried in order and the first that has the image is used" +
                (effectiveMode == "permissive" ? " (a TTY would be prompted instead)" : ""),
        };
        var erased = alias is { Value.Length: 0 } ? $"; the alias for {name} is erased by {alias.Origin}" : "";
        return (new ShortNameResolution(name, effectiveMode, registries.ShortNameMode?.Origin, null, null, search,
            registries.UnqualifiedSearchRegistries?.Origin, outcome + erased), candidates);
    }

    private static CandidateExplanation ExplainCandidate(DockerReference candidate, ConsumerInputs inputs)
    {
        if (!ImageReference.TryParse(candidate.ToString(), out var reference))
        {
            throw new InvalidReferenceException($"{GoQuote.Quote(candidate.ToString())}: invalid reference format");
        }
        var registries = inputs.Registries.Registries;
        var notes = new List<string>();
        var match = RegistryMatcher.FindLongestPrefix(registries, r => r.Entry, reference.Name);
        var entry = match?.Entry;
        if (match is null)
        {
            notes.Add("no [[registry]] entry matches: pulled from its own registry, no mirrors");
        }

        var skipped = new List<SkippedMirror>();
        var eligible = new List<MirrorEndpoint>();
        foreach (var mirror in entry?.Mirrors ?? [])
        {
            if (RegistryMatcher.SkipReason(entry!, mirror, reference.IsDigested) is { } reason)
            {
                skipped.Add(new SkippedMirror(mirror.Location, NullIfEmpty(mirror.PullFromMirror), reason));
            }
            else
            {
                eligible.Add(mirror);
            }
        }

        var pullSources = RegistryMatcher.PullSources(entry, reference);
        // containers/image rewrites every source before the first attempt; one that does not parse fails the pull.
        var unparsable = pullSources.FirstOrDefault(s => !ImageReference.TryParse(s.Reference, out _));
        if (unparsable is not null)
        {
            notes.Add($"the pull fails before any connection: rewriting reference: {GoQuote.Quote(unparsable.Reference)} is not a valid reference");
        }
        var sources = new List<SourceExplanation>();
        for (var i = 0; i < pullSources.Count; i++)
        {
            var source = pullSources[i];
            var host = HostOf(source.Name);
            string? refusal = unparsable is null ? null : "not contacted: the pull fails while rewriting the references";
            // newDockerClient looks the endpoint's own repository up again and refuses a blocked one.
            if (refusal is null && RegistryMatcher.FindLongestPrefix(registries, r => r.Entry, source.Name) is { Entry.Blocked: true } blocker)
            {
                refusal = $"registry {blocker.Entry.EffectivePrefix} is blocked in {blocker.Where}: not contacted";
            }
            sources.Add(new SourceExplanation(
                i + 1,
                source.IsMirror ? "mirror" : "primary",
                source.Reference,
                host,
                source.Insecure,
                source.IsMirror ? NullIfEmpty(eligible[i].PullFromMirror) : null,
                refusal is null,
                refusal,
                inputs.Certs(host),
                null));
        }
        if (unparsable is null && sources.TrueForAll(s => !s.Contacted))
        {
            notes.Add("no source can be contacted: the pull fails");
        }

        var registry = match is null ? null : new RegistryMatch(
            entry!.EffectivePrefix, entry.Location, match.Origin, match.Line, entry.Insecure, entry.Blocked, entry.MirrorByDigestOnly);
        return new CandidateExplanation(reference.ToString(), reference.IsDigested, notes, registry, sources, skipped, Policy(reference, inputs));
    }

    private static PolicyExplanation Policy(ImageReference reference, ConsumerInputs inputs)
    {
        if (inputs.Policy is not { } policy)
        {
            return new PolicyExplanation(null, PolicyLookup.DockerTransport, [], null, null, [], PolicyVerdicts.NoPolicy,
                $"no {inputs.PolicyPath}: containers/image refuses to pull without a policy (no policy.json, no default)");
        }
        var decision = PolicyLookup.Decide(policy.Value, reference);
        return new PolicyExplanation(policy.Origin, PolicyLookup.DockerTransport, decision.ScopesLookedUp, decision.MatchedScope,
            decision.Section, decision.Requirements, decision.Verdict, decision.Summary);
    }

    /// <summary>The registry part of a fully qualified name: what certs.d and TLS are about.</summary>
    public static string HostOf(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? name : name[..slash];
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
