using System.Text;

namespace NodeAgent.Consumer;

/// <summary>The readable form of an <see cref="Explanation"/>: one block per candidate reference, columns aligned.</summary>
public static class ExplanationText
{
    private const string Indent = "            ";

    public static string Render(Explanation explanation)
    {
        var sb = new StringBuilder();
        sb.Append("image       ").Append(explanation.Input).Append('\n');
        var files = explanation.Files.RegistriesConf.Append(explanation.Files.ShortNameAliases).Append(explanation.Files.PolicyJson).OfType<string>().ToList();
        sb.Append("read        ").Append(files.Count == 0 ? "nothing" : string.Join(", ", files)).Append(" (below ").Append(explanation.Root).Append(")\n");
        foreach (var note in explanation.Notes)
        {
            sb.Append("note        ").Append(note).Append('\n');
        }
        if (explanation.ShortName is { } shortName)
        {
            ShortName(sb, shortName);
        }
        foreach (var candidate in explanation.Candidates)
        {
            sb.Append('\n');
            Candidate(sb, candidate);
        }
        // Warnings are diagnostics: the command writes them to stderr.
        return sb.ToString();
    }

    private static void ShortName(StringBuilder sb, ShortNameResolution shortName)
    {
        sb.Append("short name  ").Append(shortName.Name).Append(": short-name-mode ").Append(shortName.Mode)
            .Append(shortName.ModeOrigin is null ? " (default)" : $" ({shortName.ModeOrigin})").Append('\n');
        if (shortName.Alias is not null)
        {
            sb.Append(Indent).Append("alias ").Append(shortName.Name).Append(" = ").Append(shortName.Alias).Append(" (").Append(shortName.AliasOrigin).Append(")\n");
        }
        else
        {
            sb.Append(Indent).Append("search registries: ")
                .Append(shortName.SearchRegistries.Count == 0 ? "none" : string.Join(", ", shortName.SearchRegistries))
                .Append(shortName.SearchRegistriesOrigin is null ? "" : $" ({shortName.SearchRegistriesOrigin})").Append('\n');
        }
        sb.Append(Indent).Append(shortName.Outcome).Append('\n');
    }

    private static void Candidate(StringBuilder sb, CandidateExplanation candidate)
    {
        sb.Append("reference   ").Append(candidate.Reference).Append(candidate.ByDigest ? "  (by digest)" : "  (by tag)").Append('\n');
        if (candidate.Registry is { } registry)
        {
            sb.Append("registry    [[registry]] prefix ").Append(registry.Prefix).Append("  (").Append(registry.Origin).Append(':').Append(registry.Line).Append(")\n");
            var flags = new List<string> { "location " + (registry.Location.Length == 0 ? "(none: the reference as is)" : registry.Location) };
            flags.AddRange(Flags(registry));
            sb.Append(Indent).Append(string.Join("; ", flags)).Append('\n');
        }
        foreach (var note in candidate.Notes)
        {
            sb.Append(candidate.Registry is null && note.StartsWith("no [[registry]]", StringComparison.Ordinal) ? "registry    " : "note        ").Append(note).Append('\n');
        }

        sb.Append("pull order\n");
        var kindWidth = candidate.Sources.Max(s => s.Kind.Length);
        var referenceWidth = candidate.Sources.Max(s => s.Reference.Length);
        foreach (var source in candidate.Sources)
        {
            var line = new StringBuilder("  ");
            line.Append(source.Contacted ? source.Order.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-").Append("  ")
                .Append(source.Kind.PadRight(kindWidth)).Append("  ")
                .Append(source.Reference.PadRight(referenceWidth));
            var details = new List<string>();
            if (source.PullFromMirror is not null)
            {
                details.Add(source.PullFromMirror);
            }
            if (!source.Contacted)
            {
                details.Add(source.NotContactedReason!);
            }
            else
            {
                details.Add(source.Insecure ? "insecure: TLS not verified, plain HTTP allowed" : "TLS verified");
            }
            line.Append("  ").Append(string.Join("; ", details));
            sb.Append(line.ToString().TrimEnd()).Append('\n');
            if (source.Probe is { } probe)
            {
                sb.Append("       probe ").Append(Probe(probe)).Append('\n');
            }
        }
        foreach (var skipped in candidate.SkippedMirrors)
        {
            sb.Append("  skipped  ").Append(skipped.Location).Append(": ").Append(skipped.Reason).Append('\n');
        }

        var hosts = candidate.Sources.Where(s => s.Contacted).Select(s => s.Certs).DistinctBy(c => c.Host).ToList();
        if (hosts.Count > 0)
        {
            sb.Append("certs.d\n");
            var hostWidth = hosts.Max(c => c.Host.Length);
            foreach (var certs in hosts)
            {
                // Client certificates are still offered to an insecure endpoint; only verification is off.
                var unverified = candidate.Sources.Where(s => s.Contacted && s.Host == certs.Host).All(s => s.Insecure);
                sb.Append("  ").Append(certs.Host.PadRight(hostWidth)).Append("  ").Append(Certs(certs))
                    .Append(unverified ? " (not verified: insecure)" : "").Append('\n');
                if (certs.Error is not null)
                {
                    sb.Append("  ").Append(new string(' ', hostWidth)).Append("  error: ").Append(certs.Error).Append(" (every connection to this host fails)\n");
                }
                if (certs.Warning is not null)
                {
                    sb.Append("  ").Append(new string(' ', hostWidth)).Append("  warning: ").Append(certs.Warning).Append('\n');
                }
            }
        }

        var policy = candidate.Policy;
        sb.Append("policy      ").Append(policy.Summary).Append('\n');
        if (policy.File is not null)
        {
            sb.Append(Indent).Append(policy.File).Append(": ").Append(policy.Section)
                .Append(policy.MatchedScope is null ? " (no docker scope matched)" : "").Append('\n');
            foreach (var requirement in policy.Requirements)
            {
                sb.Append(Indent).Append("- ").Append(requirement.Type).Append(requirement.Detail.Length == 0 ? "" : ": " + requirement.Detail).Append('\n');
            }
            sb.Append(Indent).Append("scopes tried: ").Append(policy.ScopesLookedUp.Count == 0
                ? "none: policy.json has no \"docker\" transport section"
                : string.Join(", ", policy.ScopesLookedUp.Select(s => s.Length == 0 ? "\"\"" : s))).Append('\n');
        }
    }

    private static IEnumerable<string> Flags(RegistryMatch registry)
    {
        if (registry.Blocked)
        {
            yield return "blocked";
        }
        if (registry.Insecure)
        {
            yield return "insecure";
        }
        if (registry.MirrorByDigestOnly)
        {
            yield return "mirror-by-digest-only";
        }
    }

    private static string Certs(CertsChoice certs)
    {
        if (certs.Directory is null)
        {
            return $"no directory ({string.Join(", ", certs.Checked)} do not exist): system roots only";
        }
        var loaded = new List<string>();
        if (certs.CaFiles.Count > 0)
        {
            loaded.Add("CA " + string.Join(", ", certs.CaFiles));
        }
        if (certs.ClientCertificates.Count > 0)
        {
            loaded.Add("client " + string.Join(", ", certs.ClientCertificates));
        }
        return $"{certs.Directory}: " + (loaded.Count == 0 ? "no CA file: system roots only" : string.Join("; ", loaded) + " (plus the system roots)");
    }

    private static string Probe(ProbeResult probe)
    {
        if (!probe.Ok)
        {
            return $"{probe.Address}: FAILED: {probe.Error}";
        }
        var how = probe.Verified ? $"verified by {probe.VerifiedBy}" : "NOT verified (insecure)";
        return $"{probe.Address}: ok, {probe.TlsVersion}, {probe.Subject}, notAfter {probe.NotAfter}, {how}";
    }
}
