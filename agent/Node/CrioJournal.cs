using System.Globalization;

namespace NodeAgent.Node;

/// <summary>What CRI-O's journal says about a reload.</summary>
public enum ReloadVerdict
{
    /// <summary>"Applied new registry configuration": CRI-O uses the new files.</summary>
    Confirmed,

    /// <summary>"Unable to reload configuration" or "system registries reload failed": CRI-O kept the old files.</summary>
    Rejected,

    /// <summary>Neither line (yet).</summary>
    Silent,
}

/// <summary>
/// Confirms a CRI-O reload from CRI-O's own journal (node-apply.md §3). A reload CRI-O refuses is
/// silent to systemd: <c>systemctl reload</c> succeeds, <c>is-active</c> stays true, and CRI-O
/// runs on with the old configuration until its next start fails. Only its log tells: node-agent
/// reads the entries CRI-O wrote after the reload, from a cursor taken just before it.
/// </summary>
public static class CrioJournal
{
    public const string Unit = "crio.service";

    private static readonly string[] RejectionLines = ["Unable to reload configuration", "system registries reload failed"];
    private const string ConfirmationLine = "Applied new registry configuration";

    /// <summary>The verdict of journal lines written after a reload, and the line that decided it.</summary>
    public static (ReloadVerdict Verdict, string? Line) Classify(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            if (RejectionLines.Any(r => line.Contains(r, StringComparison.Ordinal)))
            {
                return (ReloadVerdict.Rejected, line.Trim());
            }
            if (line.Contains(ConfirmationLine, StringComparison.Ordinal))
            {
                return (ReloadVerdict.Confirmed, line.Trim());
            }
        }
        return (ReloadVerdict.Silent, null);
    }

    /// <summary>The command that prints the journal's current cursor for the unit (and no entry).</summary>
    public static string CursorCommand(string unit) => $"journalctl --unit={unit} --lines=0 --show-cursor --quiet --no-pager";

    /// <summary>The command that prints the unit's messages after <paramref name="cursor"/>.</summary>
    public static string AfterCommand(string unit, string cursor) =>
        string.Create(CultureInfo.InvariantCulture, $"journalctl --unit={unit} --after-cursor='{cursor.Replace("'", "", StringComparison.Ordinal)}' --output=cat --no-pager --quiet");

    /// <summary>The cursor in journalctl's "-- cursor: …" line, or null.</summary>
    public static string? ParseCursor(string output)
    {
        const string prefix = "-- cursor: ";
        var line = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line?[prefix.Length..];
    }
}
