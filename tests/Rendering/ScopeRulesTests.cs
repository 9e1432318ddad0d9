using FluentAssertions;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>Table tests of runtime-utils' scope rules and MCO's source/mirror formats, a reason per row.</summary>
public sealed class ScopeRulesTests
{
    public static TheoryData<string, string, bool, string> Nesting() => new()
    {
        { "quay.io", "quay.io", true, "equal scopes nest" },
        { "quay.io/ns1/ns2", "quay.io", true, "a path below a registry" },
        { "quay.io/ns1", "quay.io/ns1", true, "equal namespaces" },
        { "quay.io:443", "quay.io", false, "a port makes a different registry" },
        { "quay.io:443/ns", "quay.io:443", true, "a path below a registry with a port" },
        { "quay.io:443", "quay.io:444", false, "ports must match exactly" },
        { "quay.io.example.com", "quay.io", false, "a longer host is not a child" },
        { "quay.io2", "quay.io", false, "a host with a suffix is not a child" },
        { "quay.io/ns10", "quay.io/ns1", false, "a namespace with a suffix is not a child" },
        { "quay.io", "quay.io/ns", false, "a parent is not inside its child" },
        { "foo.example.com", "*.example.com", true, "a host below a wildcard domain" },
        { "a.b.example.com", "*.example.com", true, "any depth of subdomain" },
        { "*.foo.example.com", "*.example.com", true, "a narrower wildcard nests in a wider one" },
        { "foo.example.com/bar", "*.example.com", true, "a path on a host below the wildcard" },
        { "foo.example.com:443/bar/baz", "*.example.com", true, "a host with port and path below the wildcard" },
        { "example.com", "*.example.com", false, "the wildcard's own domain is not inside it" },
        { "foo.registry.com", "*.example.com", false, "another domain" },
        { "bar/example.foo", "*.foo", false, "wildcards match host names only, not paths" },
        { "example/bar.foo:400", "*.foo", false, "a path before the colon is not a host" },
        { "foo.example.com", "**.example.com", false, "a double star is not a wildcard" },
        { "foo.example.com", "example.*.com", false, "a star in the middle is not a wildcard" },
        { "foo.example.com", "*example.com", false, "a star without a dot is not a wildcard" },
        { "foo.example.com", "*.example.com/foo", false, "a wildcard with a path never matches as a wildcard" },
        { "*.example.com/foo/x", "*.example.com/foo", true, "an invalid wildcard still matches literally by path" },
        { "fooexample.com", "*.example.com", false, "the domain must follow a dot" },
    };

    [Theory]
    [MemberData(nameof(Nesting))]
    public void Scope_nesting(string sub, string super, bool nested, string reason) =>
        ScopeRules.IsNestedInside(sub, super).Should().Be(nested, reason);

    public static TheoryData<string, bool, string> RegistriesConfScopes() => new()
    {
        { "", false, "empty" },
        { "quay.io", true, "a registry" },
        { "quay.io:5000/ns/repo", true, "registry, port and path" },
        { "reg.io/repo:latest", true, "no star: anything passes MCO (quirk Q9)" },
        { "Reg.IO/UPPER@sha256:abc", true, "no star: even upper case and digests pass" },
        { "*.example.com", true, "a wildcard domain" },
        { "*.insecure.com/ns-i1", false, "a wildcard with a path" },
        { "*.example.com:5000", false, "a wildcard with a port" },
        { "*.exa@mple.com", false, "a wildcard with an at sign" },
        { "*.*.example.com", false, "two stars" },
        { "example.*.com", false, "a star not at the start" },
        { "*example.com", false, "a star without the dot" },
        { "*.", true, "upstream accepts a bare '*.' (nothing after it to reject)" },
    };

    [Theory]
    [MemberData(nameof(RegistriesConfScopes))]
    public void IsValidRegistriesConfScope(string scope, bool valid, string reason) =>
        ScopeRules.IsValidRegistriesConfScope(scope).Should().Be(valid, reason);

    public static TheoryData<string, bool, bool, string> SourcesAndMirrors() => new()
    {
        // value, valid as source, valid as mirror, reason
        { "quay.io", true, true, "a registry" },
        { "quay.io:5000", true, true, "with a port" },
        { "quay.io/ns/repo", true, true, "with a path" },
        { "localhost:5000/repo", true, true, "a single-label host" },
        { "10.0.0.1:5000/repo", true, true, "an IPv4 host" },
        { "quay.io/ns_a/re.po/x--y/a__b", true, true, "path separators . _ __ and dashes" },
        { "*.example.com", true, false, "a wildcard is a source, never a mirror" },
        { "*.insecure.com/ns-i1", false, false, "a wildcard with a path" },
        { "*.x/y", false, false, "the spec's example of a bad mirror" },
        { "", false, false, "empty" },
        { "quay.io/ns ", false, false, "a trailing space" },
        { " quay.io", false, false, "a leading space" },
        { "quay.io/NS", false, false, "upper case in a path" },
        { "Quay.IO/ns", true, true, "upper case in the host is allowed" },
        { "quay.io/ns/", false, false, "a trailing slash" },
        { "quay.io//ns", false, false, "an empty path component" },
        { "quay.io/repo:latest", false, false, "a tag" },
        { "quay.io/repo@sha256:0123", false, false, "a digest" },
        { "-quay.io", false, false, "a label starting with a dash" },
        { "quay-.io", false, false, "a label ending with a dash" },
        { "https://quay.io", false, false, "a URL scheme" },
        { "quay.io\n", false, false, "a final newline (no $ end-of-line leniency)" },
        { "quay.io/a_", false, false, "a path ending in a separator" },
    };

    [Theory]
    [MemberData(nameof(SourcesAndMirrors))]
    public void Source_and_mirror_formats(string value, bool source, bool mirror, string reason)
    {
        ScopeRules.IsValidSource(value).Should().Be(source, reason);
        ScopeRules.IsValidMirror(value).Should().Be(mirror, reason);
    }

    [Fact]
    public void Hostile_path_is_checked_in_linear_time()
    {
        // Nested quantifiers in the path pattern would backtrack exponentially on this.
        var hostile = "quay.io/" + new string('a', 50_000) + "!";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ScopeRules.IsValidMirror(hostile).Should().BeFalse();
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the check must not backtrack");
    }
}
