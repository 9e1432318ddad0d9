using System.Diagnostics.CodeAnalysis;

namespace NodeAgent.Rendering;

/// <summary>
/// A fully qualified docker reference, <c>host[:port]/path[:tag][@algo:hex]</c>, parsed with the
/// grammar of containers/image <c>docker/reference</c> and its <c>ParseNamed</c> rule that the
/// name must already be canonical (no implied <c>docker.io</c> or <c>library/</c>).
/// </summary>
public sealed record ImageReference(string Name, string? Tag, string? Digest)
{
    private const int MaxNameLength = 255;
    private const int MaxTagLength = 128;
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The reference as containers/image prints it: name, then <c>:tag</c>, then <c>@digest</c>.</summary>
    public override string ToString() =>
        Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public bool IsDigested => Digest is not null;

    public static bool TryParse(string value, [NotNullWhen(true)] out ImageReference? reference)
    {
        reference = null;
        if (!TrySplit(value, out var rest, out var tag, out var digest, out _))
        {
            return false;
        }
        // A canonical name is host[:port]/path: exactly what MCO's mirror format accepts, plus a path.
        if (rest.Length == 0 || rest.Length > MaxNameLength || !ScopeRules.IsValidMirror(rest) || !IsCanonical(rest))
        {
            return false;
        }
        reference = new ImageReference(rest, tag, digest);
        return true;
    }

    /// <summary>
    /// Why containers/image's <c>ParseNamed</c> refuses <paramref name="value"/>, as a clause that
    /// follows the quoted value in a message ("which has no repository path"); null when it parses.
    /// </summary>
    public static string? WhyInvalid(string value)
    {
        if (TryParse(value, out _))
        {
            return null;
        }
        if (!TrySplit(value, out var name, out _, out _, out var invalidPart))
        {
            return $"whose {invalidPart} is not valid";
        }
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return "which has no repository path";
        }
        var domain = name[..slash];
        if (!domain.Contains('.', StringComparison.Ordinal) && !domain.Contains(':', StringComparison.Ordinal) && domain != "localhost")
        {
            // The first component is not taken for a registry host: the whole name becomes a
            // repository path on docker.io, which must be lower-case and is not the name given.
            var hostNote = $"its first component {GoQuote.Quote(domain)} has no \".\" or \":\" and is not \"localhost\"";
            return name.Any(char.IsAsciiLetterUpper)
                ? $"which containers/image reads as a docker.io repository ({hostNote}), and a repository name must be lower-case"
                : $"which containers/image reads as {GoQuote.Quote("docker.io/" + name)} ({hostNote})";
        }
        if (domain is "docker.io" or "index.docker.io")
        {
            var path = name[(slash + 1)..];
            var normalised = "docker.io/" + (path.Contains('/', StringComparison.Ordinal) ? path : "library/" + path);
            if (normalised != name)
            {
                return $"which containers/image normalises to {GoQuote.Quote(normalised)}";
            }
        }
        if (name.Length > MaxNameLength)
        {
            return $"whose repository name is longer than {MaxNameLength} characters";
        }
        return name.AsSpan(slash).ContainsAnyInRange('A', 'Z')
            ? "whose repository path is not lower-case"
            : "which is not a valid image reference";
    }

    /// <summary>
    /// Splits <c>name[:tag][@digest]</c> as the reference grammar does (the tag is after the last
    /// <c>:</c> that follows the last <c>/</c>); false, naming the part (<c>tag</c> or
    /// <c>digest</c>), when the tag or the digest is malformed. The name is not checked.
    /// </summary>
    public static bool TrySplit(string value, out string name, out string? tag, out string? digest, [NotNullWhen(false)] out string? invalidPart)
    {
        name = value;
        tag = null;
        digest = null;
        invalidPart = null;
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = name[(at + 1)..];
            name = name[..at];
            if (!IsValidDigest(digest))
            {
                invalidPart = "digest";
                return false;
            }
        }
        var colon = name.LastIndexOf(':');
        if (colon > name.LastIndexOf('/'))
        {
            tag = name[(colon + 1)..];
            name = name[..colon];
            if (!IsValidTag(tag))
            {
                invalidPart = "tag";
                return false;
            }
        }
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

    // Go's \w is ASCII: [A-Za-z0-9_] first, then also '.' and '-', 128 characters at most.
    private static bool IsValidTag(string tag)
    {
        if (tag.Length is 0 or > MaxTagLength || !IsWordChar(tag[0]))
        {
            return false;
        }
        foreach (var c in tag)
        {
            if (!IsWordChar(c) && c is not '.' and not '-')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    // go-digest accepts only the algorithms it knows, each with its exact lower-case hex length.
    private static bool IsValidDigest(string digest)
    {
        var colon = digest.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }
        var expected = digest[..colon] switch
        {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => -1,
        };
        var hex = digest.AsSpan(colon + 1);
        return hex.Length == expected && !hex.ContainsAnyExcept(LowerHex);
    }
}
