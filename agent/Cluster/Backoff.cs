namespace NodeAgent.Cluster;

/// <summary>
/// Jittered exponential backoff for API-server retries: 0.5 s doubling up to the cap, each delay
/// drawn from its upper half so thousands of nodes that lost the server together do not come
/// back in step, and never above the cap, so every node retries within the cap of the server's
/// return. <see cref="Reset"/> after a success starts again from the bottom.
/// </summary>
public sealed class Backoff(TimeSpan cap, Random? random = null)
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(500);

    private readonly Random _random = random ?? Random.Shared;
    private int _failures;

    public TimeSpan Cap { get; } = cap > TimeSpan.Zero ? cap : throw new ArgumentOutOfRangeException(nameof(cap), cap, "the backoff cap must be positive");

    /// <summary>Failures in a row since the last success.</summary>
    public int Failures => _failures;

    /// <summary>The delay before the next attempt after one more failure.</summary>
    public TimeSpan Next()
    {
        var exponent = Math.Min(_failures, 30);
        _failures++;
        var ceiling = Math.Min(Cap.TotalMilliseconds, Initial.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (_random.NextDouble() / 2)));
    }

    public void Reset() => _failures = 0;
}
