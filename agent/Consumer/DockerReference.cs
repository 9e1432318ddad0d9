using System.Diagnostics.CodeAnalysis;
using NodeAgent.Rendering;

namespace NodeAgent.Consumer;

/// <summary>
/// An image reference as a user types it, read with the grammar of containers/image
/// <c>docker/reference</c>: <c>[registry/]path[:tag][@digest]</c>. The registry part is the first
/// component when it holds a <c>.</c> or a <c>:</c> or is <c>localhost</c>; without one the name
/// is a short name. <see cref="Normalized"/> applies <c>ParseNormalizedNamed</c>'s rules for
/// Docker Hub (<c>docker.io/alpine</c> is <c>docker.io/library/alpine</c>).
/// </summary>
public sealed record DockerReference(string? Registry, string Path, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    private static readonly System.Buffers.SearchValues<char> IPv6Characters = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:");

    /// <summary>The name without tag or digest, as written.</summary>
    public string Name => Registry is null ? Path : Registry + "/" + Path;

    public bool IsShortName => Registry is null;

    public override string ToString() => Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    /// <summary>
    /// The fully qualified form containers/image uses: <c>index.docker.io</c> becomes
    /// <c>docker.io</c>, and a one-component Docker Hub path gets <c>library/</c>.
    /// </summary>
    public DockerReference Normalized()
    {
        if (Registry is null)
        {
            return this;
        }
        var registry = Registry == "index.docker.io" ? DockerHub : Registry;
        var path = registry == DockerHub && !Path.Contains('/', StringComparison.Ordinal) ? "library/" + Path : Path;
        return this with { Registry = registry, Path = path };
    }

    /// <summary>Parses a reference; <paramref name="error"/> says what is wrong, as containers/image does.</summary>
    public static bool TryParse(string value, [NotNullWhen(true)] out DockerReference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        error = null;
        if (value.Length == 0)
        {
            error = "invalid reference format: the reference is empty";
            return false;
        }
        if (!ImageReference.TrySplit(value, out var rest, out var tag, out var digest, out var invalidPart))
        {
            var at = value.IndexOf('@', StringComparison.Ordinal);
            var name = at < 0 ? value : value[..at];
            error = invalidPart == "digest"
                ? $"invalid reference format: {Quote(value[(at + 1)..])} is not a digest (algorithm:hex, e.g. sha256: and 64 lower-case hex digits)"
                : $"invalid reference format: {Quote(name[(name.LastIndexOf(':') + 1)..])} is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')";
            return false;
        }
        string? registry = null;
        var path = rest;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && IsRegistryPart(rest[..slash]))
        {
            registry = rest[..slash];
            path = rest[(slash + 1)..];
            if (!ScopeRules.IsRegistryHost(registry) && !IsBracketedIPv6(registry))
            {
                error = $"invalid reference format: {Quote(registry)} is not a registry host[:port]";
                return false;
            }
        }
        // The path grammar is MCO's mirror grammar below a registry, so reuse it with a stand-in host.
        if (path.Length == 0 || !ScopeRules.IsValidMirror("example.invalid/" + path))
        {
            error = path.Any(char.IsAsciiLetterUpper)
                ? "invalid reference format: repository name must be lowercase"
                : $"invalid reference format: {Quote(path)} is not a repository path (lower-case components of letters and digits joined by '.', '_', '__' or '-', separated by '/')";
            return false;
        }
        if (rest.Length > 255)
        {
            error = "invalid reference format: repository name must not be more than 255 characters";
            return false;
        }
        reference = new DockerReference(registry, path, tag, digest);
        return true;
    }

    /// <summary>containers/image's test for a registry part: it holds a <c>.</c> or <c>:</c>, or is <c>localhost</c>.</summary>
    public static bool IsRegistryPart(string component) =>
        component.Contains('.', StringComparison.Ordinal) || component.Contains(':', StringComparison.Ordinal) || component == "localhost";

    private static bool IsBracketedIPv6(string registry)
    {
        var close = registry.IndexOf(']', StringComparison.Ordinal);
        if (!registry.StartsWith('[') || close < 2)
        {
            return false;
        }
        var address = registry.AsSpan(1, close - 1);
        var port = registry.AsSpan(close + 1);
        return !address.ContainsAnyExcept(IPv6Characters) &&
            (port.IsEmpty || (port[0] == ':' && port.Length > 1 && !port[1..].ContainsAnyExceptInRange('0', '9')));
    }

    private static string Quote(string value) => GoQuote.Quote(value);
}
