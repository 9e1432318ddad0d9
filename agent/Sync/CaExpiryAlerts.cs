namespace NodeAgent.Sync;

/// <summary>A CA certificate that has reached a warning threshold: 30 days, 7 days, or expired (0).</summary>
public sealed record CaExpiryAlert(string Host, DateTimeOffset NotAfter, int ThresholdDays, int DaysLeft)
{
    public bool Expired => ThresholdDays == 0;
}

/// <summary>
/// Decides when a CA's coming expiry is worth a warning: once when it is 30 days away, once at
/// 7 days, once when it has expired, per host and certificate (a replaced certificate starts
/// over). No polling: <see cref="NextCrossing"/> says when the next threshold is reached.
/// </summary>
public sealed class CaExpiryAlerts
{
    private static readonly int[] ThresholdDays = [30, 7, 0];

    private readonly HashSet<(string Host, DateTimeOffset NotAfter, int Threshold)> _sent = [];

    /// <summary>The alerts due now and not sent before: at most one per host, the most severe.</summary>
    public IReadOnlyList<CaExpiryAlert> Due(IReadOnlyDictionary<string, DateTimeOffset> expiry, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(expiry);
        var due = new List<CaExpiryAlert>();
        foreach (var (host, notAfter) in expiry.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var crossed = ThresholdDays.Where(days => now >= notAfter - TimeSpan.FromDays(days)).ToList();
            if (crossed.Count == 0)
            {
                continue;
            }
            var severest = crossed.Min();
            if (_sent.Add((host, notAfter, severest)))
            {
                due.Add(new CaExpiryAlert(host, notAfter, severest, Rendering.ExpiryDays.Left(notAfter, now)));
            }
            foreach (var days in crossed)
            {
                _sent.Add((host, notAfter, days));
            }
        }
        return due;
    }

    /// <summary>When the next threshold of any certificate is reached, or null when none is ahead.</summary>
    public static DateTimeOffset? NextCrossing(IReadOnlyDictionary<string, DateTimeOffset> expiry, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(expiry);
        var ahead = expiry.Values.SelectMany(notAfter => ThresholdDays.Select(days => notAfter - TimeSpan.FromDays(days))).Where(t => t > now).ToList();
        return ahead.Count == 0 ? null : ahead.Min();
    }
}
