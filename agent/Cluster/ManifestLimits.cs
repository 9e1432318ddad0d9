namespace NodeAgent.Cluster;

/// <summary>Bounds on manifest input, so hostile files fail fast with a message instead of a hang.</summary>
public sealed record ManifestLimits(long MaxFileBytes, int MaxDepth)
{
    public const long DefaultMaxFileBytes = 16L * 1024 * 1024;
    public const int DefaultMaxDepth = 64;

    /// <summary>
    /// Nodes one file may expand to, counting every alias copy. Far above any real manifest, far
    /// below what an alias bomb would need.
    /// </summary>
    public const int MaxNodesPerFile = 1_000_000;

    /// <summary>
    /// Characters of scalar text one file may expand to, counting every alias copy: a 1 MiB
    /// string aliased a hundred times must fail as surely as a billion laughs.
    /// </summary>
    public const long MaxTextCharsPerFile = 64L * 1024 * 1024;

    public static readonly ManifestLimits Default = new(DefaultMaxFileBytes, DefaultMaxDepth);
}

/// <summary>Input that cannot be read as manifests: where, and why.</summary>
public sealed class ManifestException(string location, string message) : Exception($"{location}: {message}")
{
    public string Location { get; } = location;
    public string Reason { get; } = message;
}
