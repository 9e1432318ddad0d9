namespace NodeAgent.Text;

/// <summary>
/// "Did you mean": whether a name is a likely slip for a known one — another case, one or two
/// letters added, dropped, changed or swapped (a plural among them), or stray spaces.
/// </summary>
public static class NearMiss
{
    /// <summary>True when <paramref name="written"/> differs from <paramref name="known"/> but is close to it.</summary>
    public static bool IsNearMiss(string written, string known) =>
        !string.Equals(written, known, StringComparison.Ordinal) && IsClose(written, known);

    /// <summary>The known name closest to <paramref name="written"/> within the slip distance, if any.</summary>
    public static string? Closest(string written, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(Normal(written), Normal(candidate));
            if (distance < bestDistance && IsClose(written, candidate))
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    private static bool IsClose(string written, string known)
    {
        var a = Normal(written);
        var b = Normal(known);
        if (IsPluralOf(a, b) || IsPluralOf(b, a))
        {
            return true;
        }
        // Very short names ("ca", "id") are one slip from too many others to guess.
        var allowed = b.Length <= 3 ? 1 : 2;
        return Distance(a, b) <= allowed;
    }

    // "registries" for "registry": the -ies plural is three edits away, and as likely a slip as "-s".
    private static bool IsPluralOf(string plural, string singular) =>
        singular.Length > 1 && (plural == singular + "s" || plural == singular + "es" ||
            (singular.EndsWith('y') && plural == singular[..^1] + "ies"));

    private static string Normal(string name) => name.Trim().ToLowerInvariant();

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var best = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    best = Math.Min(best, d[i - 2, j - 2] + 1);
                }
                d[i, j] = best;
            }
        }
        return d[a.Length, b.Length];
    }
}
