namespace NodeAgent.Rendering;

/// <summary>
/// The scope rules of openshift/runtime-utils and MCO: which strings are valid scopes, sources and
/// mirrors, and when one scope is nested inside another.
/// </summary>
/// <remarks>
/// The formats are the IDMS/ITMS CRD patterns MCO reuses, matched by hand instead of by regex:
/// <code>
/// label     = [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
/// host      = label ("." label)*                      port = ":" [0-9]+
/// component = [a-z0-9]+ (("." | "_" | "__" | "-"*) [a-z0-9]+)*
/// host[:port][/path] = host port? ("/" component)*    *.domain = "*" ("." label)+
/// </code>
/// Each rule reads the string once, left to right, so hostile input cannot make it slow (the
/// component rule nests quantifiers, which a backtracking regex can take exponential time on),
/// and nothing is built at start-up (a NonBacktracking regex of these patterns takes tens of
/// milliseconds to construct). Only ASCII letters and digits count, as in the patterns.
/// </remarks>
public static class ScopeRules
{
    /// <summary>A registry <c>host[:port]</c> with no path, as a search registry must be.</summary>
    public static bool IsRegistryHost(string value)
    {
        var i = 0;
        return Host(value, ref i) && Port(value, ref i) && i == value.Length;
    }

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
    public static bool IsValidSource(string source) => IsWildcardDomain(source) || IsHostPortPath(source);

    /// <summary>MCO's mirror format: <c>host[:port][/path]</c>, no wildcard.</summary>
    public static bool IsValidMirror(string mirror) => IsHostPortPath(mirror);

    /// <summary>
    /// What the newer Image CRD accepts for a registrySources item: <c>host[:port][/path]</c> or
    /// <c>*.host</c>. MCO itself accepts more (quirk Q9); node-agent warns about the rest.
    /// </summary>
    public static bool IsCleanScope(string scope) => IsHostPortPath(scope) || IsWildcardDomain(scope);

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

    private static bool IsHostPortPath(string value)
    {
        var i = 0;
        if (!Host(value, ref i) || !Port(value, ref i))
        {
            return false;
        }
        while (i < value.Length)
        {
            if (value[i] != '/')
            {
                return false;
            }
            i++;
            if (!Component(value, ref i))
            {
                return false;
            }
        }
        return true;
    }

    // "*" ("." label)+, which is "*." host.
    private static bool IsWildcardDomain(string value)
    {
        if (!value.StartsWith("*.", StringComparison.Ordinal))
        {
            return false;
        }
        var i = 2;
        return Host(value, ref i) && i == value.Length;
    }

    // A host ends where its characters do; what may follow (":", "/", the end) cannot continue a
    // label, so reading each label as far as it goes never misses a match.
    private static bool Host(string value, ref int i)
    {
        while (Label(value, ref i))
        {
            if (i == value.Length || value[i] != '.')
            {
                return true;
            }
            i++;
        }
        return false;
    }

    private static bool Label(string value, ref int i)
    {
        if (i == value.Length || !char.IsAsciiLetterOrDigit(value[i]))
        {
            return false;
        }
        while (i < value.Length && (char.IsAsciiLetterOrDigit(value[i]) || value[i] == '-'))
        {
            i++;
        }
        return value[i - 1] != '-';
    }

    // Optional: without a ':' there is nothing to read.
    private static bool Port(string value, ref int i)
    {
        if (i == value.Length || value[i] != ':')
        {
            return true;
        }
        var digits = ++i;
        while (i < value.Length && char.IsAsciiDigit(value[i]))
        {
            i++;
        }
        return i > digits;
    }

    // Runs of lower-case letters and digits joined by one separator each: ".", "_", "__" or any
    // number of "-". Reads up to the next "/" or the end.
    private static bool Component(string value, ref int i)
    {
        while (true)
        {
            if (i == value.Length || !IsLowerAlphanumeric(value[i]))
            {
                return false;
            }
            while (i < value.Length && IsLowerAlphanumeric(value[i]))
            {
                i++;
            }
            if (i == value.Length || value[i] == '/')
            {
                return true;
            }
            var separator = i;
            while (i < value.Length && value[i] is '.' or '_' or '-')
            {
                i++;
            }
            var run = value.AsSpan(separator, i - separator);
            if (!(run is "." or "_" or "__" || !run.ContainsAnyExcept('-')))
            {
                return false;
            }
        }
    }

    private static bool IsLowerAlphanumeric(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
