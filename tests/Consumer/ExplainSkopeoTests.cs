using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// <c>node-agent explain</c> against the real consumer: on the same node root, the endpoints
/// skopeo (containers/image) tries, in its <c>--debug</c> lines <c>Trying to access "REF"</c>,
/// must be exactly the pull sources explain prints, in the same order, the first one first.
/// Every endpoint is unreachable on purpose (mirrors on the closed port 127.0.0.1:1, sources under
/// <c>.invalid</c> with name resolution pinned to loopback), so skopeo walks the whole list.
/// </summary>
/// <remarks>Runs in <see cref="NodeRootSkopeo"/>; without it (or without skopeo) the tests are skipped with the reason, and fail with <c>CI=true</c> (<see cref="Requires"/>).</remarks>
public sealed partial class ExplainSkopeoTests(ITestOutputHelper output)
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private const string ThreeMirrors = """
        [[registry]]
          location = "registry.e2e.invalid/team"

          [[registry.mirror]]
            location = "127.0.0.1:1/all"

          [[registry.mirror]]
            location = "127.0.0.1:1/digest"
            pull-from-mirror = "digest-only"

          [[registry.mirror]]
            location = "127.0.0.1:1/tag"
            pull-from-mirror = "tag-only"
        """;

    public sealed record PullCase(string Reason, string Image, string Conf, string[]? DropIns = null, string[]? ExpectedFirst = null)
    {
        public override string ToString() => Reason;
    }

    public static TheoryData<PullCase> Cases() => new()
    {
        new PullCase("a tag: the all and tag-only mirrors, then the source", "registry.e2e.invalid/team/app:v1", ThreeMirrors,
            ExpectedFirst: ["127.0.0.1:1/all/app:v1"]),
        new PullCase("a digest: the all and digest-only mirrors, then the source", "registry.e2e.invalid/team/app@" + Digest, ThreeMirrors,
            ExpectedFirst: ["127.0.0.1:1/all/app@" + Digest]),
        new PullCase("a digest-only mirror is skipped for a tag", "registry.e2e.invalid/team/app:v1", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              [[registry.mirror]]
                location = "127.0.0.1:1/digest"
                pull-from-mirror = "digest-only"
            """, ExpectedFirst: ["registry.e2e.invalid/team/app:v1"]),
        new PullCase("mirror-by-digest-only skips every mirror for a tag", "registry.e2e.invalid/team/app:v1", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              mirror-by-digest-only = true
              [[registry.mirror]]
                location = "127.0.0.1:1/m"
            """, ExpectedFirst: ["registry.e2e.invalid/team/app:v1"]),
        new PullCase("mirror-by-digest-only uses the mirrors for a digest", "registry.e2e.invalid/team/app@" + Digest, """
            [[registry]]
              location = "registry.e2e.invalid/team"
              mirror-by-digest-only = true
              [[registry.mirror]]
                location = "127.0.0.1:1/m"
            """, ExpectedFirst: ["127.0.0.1:1/m/app@" + Digest]),
        new PullCase("a blocked source: its mirror first, the source listed but refused", "registry.e2e.invalid/team/app:v1", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              blocked = true
              [[registry.mirror]]
                location = "127.0.0.1:1/m"
            """),
        new PullCase("the longest prefix wins and nothing is inherited", "registry.e2e.invalid/team/app:v1", """
            [[registry]]
              location = "registry.e2e.invalid"
              [[registry.mirror]]
                location = "127.0.0.1:1/parent"
            [[registry]]
              location = "registry.e2e.invalid/team/app"
              [[registry.mirror]]
                location = "127.0.0.1:1/child"
            """, ExpectedFirst: ["127.0.0.1:1/child:v1"]),
        new PullCase("a wildcard rewrites the host part", "deep.sub.e2e.invalid/team/app:v1", """
            [[registry]]
              prefix = "*.e2e.invalid"
              [[registry.mirror]]
                location = "127.0.0.1:1/wild"
            """, ExpectedFirst: ["127.0.0.1:1/wild/team/app:v1"]),
        new PullCase("a longer host beats a wildcard of the same host", "abc.e2e.invalid/app:v1", """
            [[registry]]
              prefix = "*.e2e.invalid"
              [[registry.mirror]]
                location = "127.0.0.1:1/wild"
            [[registry]]
              location = "abc.e2e.invalid"
              [[registry.mirror]]
                location = "127.0.0.1:1/host"
            """, ExpectedFirst: ["127.0.0.1:1/host/app:v1"]),
        new PullCase("a later drop-in replaces the table; lexical order decides", "registry.e2e.invalid/team/app:v1", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              [[registry.mirror]]
                location = "127.0.0.1:1/main"
            """, ["20-b.conf", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              [[registry.mirror]]
                location = "127.0.0.1:1/b"
            """, "10-a.conf", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              [[registry.mirror]]
                location = "127.0.0.1:1/a"
            """], ExpectedFirst: ["127.0.0.1:1/b/app:v1"]),
        new PullCase("docker.io names are normalised before matching", "docker.io/alpine:3", """
            [[registry]]
              location = "docker.io/library"
              [[registry.mirror]]
                location = "127.0.0.1:1/hub"
            """, ExpectedFirst: ["127.0.0.1:1/hub/alpine:3"]),
        new PullCase("a mirror inside a blocked scope is tried and refused", "registry.e2e.invalid/team/app:v1", """
            [[registry]]
              location = "registry.e2e.invalid/team"
              [[registry.mirror]]
                location = "blocked.e2e.invalid/team"
              [[registry.mirror]]
                location = "127.0.0.1:1/open"
            [[registry]]
              location = "blocked.e2e.invalid"
              blocked = true
            """, ExpectedFirst: ["blocked.e2e.invalid/team/app:v1"]),
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Skopeo_tries_the_sources_explain_prints_in_the_same_order(PullCase testCase)
    {
        Require();
        using var root = new TempRoot("explain-skopeo");
        root.Write("etc/containers/registries.conf", testCase.Conf);
        root.Write("etc/containers/policy.json", """{"default":[{"type":"insecureAcceptAnything"}]}""");
        var dropIns = testCase.DropIns ?? [];
        for (var i = 0; i < dropIns.Length; i += 2)
        {
            root.Write("etc/containers/registries.conf.d/" + dropIns[i], dropIns[i + 1]);
        }

        var explain = NodeAgentProcess.Run(["explain", testCase.Image, "--root", root.Path, "--output", "json"]);
        explain.ExitCode.Should().Be(0, explain.ToString());
        var candidate = JsonNode.Parse(explain.Stdout)!["candidates"]!.AsArray().Single()!;
        var sources = candidate["sources"]!.AsArray().Select(s => (
            Reference: s!["reference"]!.GetValue<string>(),
            Contacted: s["contacted"]!.GetValue<bool>())).ToList();

        using var skopeo = new NodeRootSkopeo(root.Path);
        var inspect = skopeo.Run("inspect", "--no-tags", "docker://" + testCase.Image);
        var tried = TryingToAccess().Matches(inspect.Stderr).Select(m => m.Groups["ref"].Value).ToList();
        output.WriteLine($"{testCase.Reason}\n  explain: {string.Join(", ", sources.Select(s => s.Reference + (s.Contacted ? "" : " (not contacted)")))}\n  skopeo:  {string.Join(", ", tried)}");

        inspect.ExitCode.Should().NotBe(0, "every endpoint is unreachable");
        tried.Should().NotBeEmpty(inspect.ToString());
        sources[0].Reference.Should().Be(tried[0], "the first source explain prints is the first skopeo tries");
        sources.Select(s => s.Reference).Should().Equal(tried, $"{testCase.Reason}\n{inspect}");
        if (testCase.ExpectedFirst is { } expected)
        {
            tried[0].Should().Be(expected[0], testCase.Reason);
        }
        foreach (var (reference, contacted) in sources.Where(s => !s.Contacted))
        {
            inspect.Stderr.Should().MatchRegex($"\\[?{Regex.Escape(reference)}: registry [^ ]+ is blocked in",
                $"explain says {reference} is not contacted: skopeo must refuse it as blocked");
        }
    }

    private static void Require() =>
        Requires.Available((SkopeoSandbox.SkopeoPath is null ? "skopeo is not installed: apt-get install skopeo (make deps does it as root)" : NodeRootSkopeo.Unavailable) is { } reason
            ? $"{reason}, so explain cannot be compared with skopeo"
            : null);

    // logrus: msg="Trying to access \"REF\""
    [GeneratedRegex("msg=\"Trying to access \\\\\"(?<ref>[^\\\\]+)\\\\\"\"", RegexOptions.CultureInvariant)]
    private static partial Regex TryingToAccess();
}
