using System.Text.RegularExpressions;

namespace NodeAgent.Rendering;

/// <summary>
/// The scope rules of openshift/runtime-utils and MCO: which strings are valid scopes, sources and
/// mirrors, and when one scope is nested inside another.
/// </summary>
public static class ScopeRules
{
    // One DNS label: alphanumerics, inner dashes allowed.
    private const string Label = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";

    // host[:port] followed by lower-case path components, as in the IDMS/ITMS CRD pattern MCO reuses.
    private const string HostPortPath =
        "(" + Label + "(?:(?:\\." + Label + ")+)?(?::[0-9]+)?)" +
        "(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?";

    // NonBacktracking: the path part nests quantifiers, which a backtracking engine can take
    // exponential time on for hostile input. \z, not $, because .NET's $ also matches before a final \n.
    private const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    private static readonly Regex SourcePattern = new(
        "^\\*(?:\\." + Label + ")+\\z|^" + HostPortPath + "\\z", Options);

    private static readonly Regex MirrorPattern = new("^" + HostPortPath + "\\z", Options);

    private static readonly Regex WildcardPattern = new("^\\*(?:\\." + Label + ")+\\z", Options);

    private static readonly Regex HostPortPattern = new("^" + Label + "(?:\\." + Label + ")*(?::[0-9]+)?\\z", Options);

    /// <summary>A registry <c>host[:port]</c> with no path, as a search registry must be.</summary>
    public static bool IsRegistryHost(string value) => HostPortPattern.IsMatch(value);

    public static bool IsWildcard(string scope) => scope.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>
    /// runtime-utils <c>IsValidRegistriesConfScope</c>: non-empty; without <c>*</c> anything goes;
    /// with <c>*</c> only <c>*.rest</c> where rest has none of <c>/ @ : *</c>.
    /// </summary>
    public static bool IsValidRegistriesConfScope(string scope)
    {
        if (scope.Length == 0)
        {
            return false;
        }
        if (!scope.Contains('*', StringComparison.Ordinal))
        {
            return true;
        }
        return IsWildcard(scope) && scope.AsSpan(2).IndexOfAny("/@:*") < 0;
    }

    /// <summary>MCO's source format: <c>host[:port][/path]</c> or a pure wildcard <c>*.host</c>.</summary>
    public static bool IsValidSource(string source) => SourcePattern.IsMatch(source);

    /// <summary>MCO's mirror format: <c>host[:port][/path]</c>, no wildcard.</summary>
    public static bool IsValidMirror(string mirror) => MirrorPattern.IsMatch(mirror);

    /// <summary>
    /// What the newer Image CRD accepts for a registrySources item: <c>host[:port][/path]</c> or
    /// <c>*.host</c>. MCO itself accepts more (quirk Q9); node-agent warns about the rest.
    /// </summary>
    public static bool IsCleanScope(string scope) => MirrorPattern.IsMatch(scope) || WildcardPattern.IsMatch(scope);

    /// <summary>
    /// Every scope <c>s</c> such that <see cref="IsNestedInside"/>(<paramref name="sub"/>, s) holds:
    /// the scope itself, each of its <c>/</c> prefixes, and <c>*.domain</c> for each domain suffix
    /// of its host part. Looking these up in a set replaces a scan of every scope.
    /// </summary>
    public static IEnumerable<string> EnclosingScopes(string sub)
    {
        yield return sub;
        for (var k = sub.IndexOf('/', StringComparison.Ordinal); k >= 0; k = sub.IndexOf('/', k + 1))
        {
            yield return sub[..k];
        }
        var colon = sub.IndexOf(':', StringComparison.Ordinal);
        string host;
        if (colon >= 0)
        {
            host = sub[..colon];
            if (host.Contains('/', StringComparison.Ordinal))
            {
                yield break;
            }
        }
        else
        {
            var slash = sub.IndexOf('/', StringComparison.Ordinal);
            host = slash >= 0 ? sub[..slash] : sub;
        }
        for (var i = host.IndexOf('.', StringComparison.Ordinal); i >= 0; i = host.IndexOf('.', i + 1))
        {
            yield return "*" + host[i..];
        }
    }

    /// <summary>
    /// runtime-utils <c>ScopeIsNestedInsideScope</c>: equal; or a path below a non-wildcard scope;
    /// or a host part ending in the domain of a <c>*.domain</c> scope.
    /// </summary>
    public static bool IsNestedInside(string sub, string super)
    {
        if (string.Equals(sub, super, StringComparison.Ordinal))
        {
            return true;
        }
        if (sub.Length > super.Length && sub.StartsWith(super, StringComparison.Ordinal) && sub[super.Length] == '/')
        {
            return true;
        }
        if (!IsWildcard(super))
        {
            return false;
        }
        var domain = super.AsSpan(1);
        var colon = sub.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var host = sub.AsSpan(0, colon);
            return host.EndsWith(domain, StringComparison.Ordinal) && !host.Contains('/');
        }
        var slash = sub.IndexOf('/', StringComparison.Ordinal);
        var hostPart = slash >= 0 ? sub.AsSpan(0, slash) : sub.AsSpan();
        return hostPart.EndsWith(domain, StringComparison.Ordinal);
    }
}
