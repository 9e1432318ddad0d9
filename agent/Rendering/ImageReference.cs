using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace NodeAgent.Rendering;

/// <summary>
/// A fully qualified docker reference, <c>host[:port]/path[:tag][@algo:hex]</c>, parsed with the
/// grammar of containers/image <c>docker/reference</c> and its <c>ParseNamed</c> rule that the
/// name must already be canonical (no implied <c>docker.io</c> or <c>library/</c>).
/// </summary>
public sealed record ImageReference(string Name, string? Tag, string? Digest)
{
    private const int MaxNameLength = 255;
    private const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    private static readonly Regex NamePattern = new(
        "^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?" +
        "[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*\\z",
        Options);

    private static readonly Regex TagPattern = new("^[\\w][\\w.-]{0,127}\\z", Options);

    private static readonly Regex DigestPattern = new(
        "^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\\z", Options);

    /// <summary>The reference as containers/image prints it: name, then <c>:tag</c>, then <c>@digest</c>.</summary>
    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public bool IsDigested => Digest is not null;

    public static bool TryParse(string value, [NotNullWhen(true)] out ImageReference? reference)
    {
        reference = null;
        var rest = value;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!IsValidDigest(digest))
            {
                return false;
            }
        }
        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern.IsMatch(tag))
            {
                return false;
            }
        }
        if (rest.Length == 0 || rest.Length > MaxNameLength || !NamePattern.IsMatch(rest) || !IsCanonical(rest))
        {
            return false;
        }
        reference = new ImageReference(rest, tag, digest);
        return true;
    }

    // ParseNamed rejects names that normalisation would change: no registry host in front,
    // docker.io without a namespace, or the index.docker.io alias.
    private static bool IsCanonical(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }
        var domain = name[..slash];
        if (!domain.Contains('.', StringComparison.Ordinal) && !domain.Contains(':', StringComparison.Ordinal) && domain != "localhost")
        {
            return false;
        }
        if (domain == "index.docker.io")
        {
            return false;
        }
        return domain != "docker.io" || name.IndexOf('/', slash + 1) >= 0;
    }

    // go-digest accepts only the algorithms it knows, each with its exact lower-case hex length.
    private static bool IsValidDigest(string digest)
    {
        if (!DigestPattern.IsMatch(digest))
        {
            return false;
        }
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        var hex = digest.AsSpan(colon + 1);
        var expected = digest[..colon] switch
        {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => -1,
        };
        if (hex.Length != expected)
        {
            return false;
        }
        foreach (var c in hex)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }
}
