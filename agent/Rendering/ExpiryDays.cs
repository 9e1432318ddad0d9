namespace NodeAgent.Rendering;

/// <summary>
/// The one rule for "days left" before a certificate expires, so the render warning, the log,
/// <c>node-agent status</c> and the Node's Events all give the same number for the same CA.
/// </summary>
public static class ExpiryDays
{
    /// <summary>Whole days from <paramref name="now"/> to <paramref name="notAfter"/>, rounded down (5 days 23 hours is 5); negative once expired.</summary>
    public static int Left(DateTimeOffset notAfter, DateTimeOffset now) => (int)Math.Floor((notAfter - now).TotalDays);
}
