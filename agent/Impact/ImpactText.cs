using System.Text;

namespace NodeAgent.Impact;

/// <summary>The impact report as lines a person reads after the dry run's diff.</summary>
public static class ImpactText
{
    public static string Format(ImpactReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        if (report.Files.Count == 0)
        {
            text.Append("impact: nothing changes on this node\n");
            return text.ToString();
        }
        text.Append("impact on this node:\n");
        text.Append("  files: ").AppendJoin(", ", report.Files.Select(f => $"{f.Path} ({f.Change})")).Append('\n');
        foreach (var scope in report.Scopes)
        {
            text.Append("  registry ").Append(scope.Scope).Append(":\n");
            foreach (var change in scope.Changes)
            {
                text.Append("    ").Append(Phrase(change.Kind)).Append(": ").Append(change.Detail).Append('\n');
            }
            Pulls(text, "digest pulls", scope.DigestBefore, scope.DigestAfter);
            Pulls(text, "tag pulls", scope.TagBefore, scope.TagAfter);
        }
        if (report.Search is { } search)
        {
            text.Append("  short-name search: ").Append(List(search.Before)).Append(" → ").Append(List(search.After)).Append('\n');
        }
        foreach (var policy in report.Policy)
        {
            text.Append("  policy.json ").Append(policy.Scope).Append(": ").Append(policy.Before).Append(" → ").Append(policy.After).Append('\n');
        }
        foreach (var trust in report.Trust)
        {
            text.Append("  trust for ").Append(trust.Host).Append(": CA file ").Append(trust.Change).Append(" (used from the next pull; no reload)\n");
        }
        var because = string.Join(", ", report.ReloadBecause.Select(Path.GetFileName));
        text.Append("  CRI-O reload: ").Append((report.ReloadNeeded, report.ReloadDisabled) switch
        {
            (false, _) when report.Files.Any(f => Path.GetFileName(f.Path) == "policy.json") => "no (policy.json is read on every pull)",
            (false, _) => "no",
            (true, false) => $"yes ({because} changed)",
            (true, true) => $"needed ({because} changed), but disabled (--reload-command '')",
        }).Append('\n');
        text.Append("  MCO would have: ").Append(Describe(report.Mco.Action)).Append(" (").Append(report.Mco.Reason).Append(")\n");
        foreach (var note in report.Notes)
        {
            text.Append("  note: ").Append(note).Append('\n');
        }
        return text.ToString();
    }

    public static string Describe(McoAction action) => action switch
    {
        McoAction.None => "done nothing",
        McoAction.Reload => "reloaded CRI-O without a drain",
        McoAction.DrainAndReload => "cordoned and drained the node, then reloaded CRI-O",
        _ => "cordoned, drained and rebooted the node",
    };

    private static void Pulls(StringBuilder text, string label, PullOrder before, PullOrder after)
    {
        text.Append("    ").Append(label).Append(": ");
        if (before.SameAs(after))
        {
            text.Append("unchanged, ").Append(Order(after)).Append('\n');
            return;
        }
        text.Append(Order(before)).Append('\n').Append(' ', 6 + label.Length).Append("→ ").Append(Order(after)).Append('\n');
    }

    private static string Order(PullOrder order)
    {
        if (order.Endpoints.Count == 0)
        {
            return order.SourceBlocked ? "none (source blocked)" : "none";
        }
        var tried = string.Join(", ", order.Endpoints);
        return order.SourceBlocked ? $"{tried} (source blocked)" : tried;
    }

    private static string List(IReadOnlyList<string> entries) => entries.Count == 0 ? "(none)" : string.Join(", ", entries);

    private static string Phrase(string kind) => kind switch
    {
        "entry-added" => "new entry",
        "entry-removed" => "entry removed",
        "location-changed" => "location changed",
        "blocked" => "newly blocked",
        "unblocked" => "no longer blocked",
        "insecure" => "newly insecure (TLS unverified, plain HTTP allowed)",
        "verified" => "no longer insecure",
        "digest-only-set" => "mirrors now for digests only",
        "digest-only-unset" => "mirrors now for tags too",
        "mirror-added" => "mirror added",
        "mirror-removed" => "mirror removed",
        "mirrors-reordered" => "mirrors reordered",
        "mirror-pull-from-mirror" => "pull-from-mirror changed",
        "mirror-insecure" => "mirror newly insecure",
        "mirror-verified" => "mirror no longer insecure",
        _ => kind,
    };
}
