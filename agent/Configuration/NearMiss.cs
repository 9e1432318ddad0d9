namespace NodeAgent.Configuration;

/// <summary>"Did you mean": the known name closest to a misspelt one, compared without case.</summary>
public static class NearMiss
{
    /// <summary>
    /// The candidate within <paramref name="maxDistance"/> edits (insert, delete, replace; case
    /// ignored) of <paramref name="value"/>, the closest one, the first of equals; null when none is close.
    /// </summary>
    public static string? Closest(string value, IEnumerable<string> candidates, int maxDistance = 2)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        var bestDistance = maxDistance + 1;
        foreach (var candidate in candidates)
        {
            var distance = Distance(value, candidate, bestDistance);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    // Levenshtein distance over upper-cased letters, giving up once every path costs at least limit.
    private static int Distance(string a, string b, int limit)
    {
        if (Math.Abs(a.Length - b.Length) >= limit)
        {
            return limit;
        }
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMin = current[0];
            for (var j = 1; j <= b.Length; j++)
            {
                var same = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]);
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (same ? 0 : 1));
                rowMin = Math.Min(rowMin, current[j]);
            }
            if (rowMin >= limit)
            {
                return limit;
            }
            (previous, current) = (current, previous);
        }
        return Math.Min(previous[b.Length], limit);
    }
}
