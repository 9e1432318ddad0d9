using FluentAssertions;
using NodeAgent.Consumer;
using NodeAgent.Node;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// Table tests, a reason per row, of what containers/image does with a pull: which
/// <c>[[registry]]</c> matches, the pull sources in order and the mirrors skipped, drop-in merging,
/// Docker Hub normalisation and short names. The files are real, below a temp root, read by
/// <see cref="ConsumerFiles"/> as <c>explain</c> reads them.
/// </summary>
public sealed class PullExplainerTests : IDisposable
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private readonly TempRoot _root = new("explain-table");

    public void Dispose() => _root.Dispose();

    /// <summary>One pull: the files, the IMAGE, the table that must match and the sources, "kind reference" with " (not contacted)" when refused.</summary>
    public sealed record Row(string Reason, string Conf, string Image, string? Prefix, string[] Sources, string[]? Skipped = null)
    {
        public override string ToString() => Reason;
    }

    private const string Mirrored = """
        [[registry]]
        prefix = "example.com/team"
        location = "example.com/team"
        [[registry.mirror]]
        location = "all.mirror.test/team"
        [[registry.mirror]]
        location = "digest.mirror.test/team"
        pull-from-mirror = "digest-only"
        [[registry.mirror]]
        location = "tag.mirror.test/team"
        pull-from-mirror = "tag-only"
        """;

    public static TheoryData<Row> Rows() => new()
    {
        new Row("the longest prefix wins and nothing is inherited from the shorter one (no mirror, not insecure)", """
            [[registry]]
            location = "example.com"
            insecure = true
            [[registry.mirror]]
            location = "parent.mirror.test"
            [[registry]]
            location = "example.com/team/app"
            """, "example.com/team/app:v1", "example.com/team/app", ["primary example.com/team/app:v1"]),
        new Row("a prefix matches only at a / boundary: example.com/team does not cover example.com/teamwork", Mirrored,
            "example.com/teamwork/app:v1", null, ["primary example.com/teamwork/app:v1"]),
        new Row("a prefix equal to the repository matches", """
            [[registry]]
            prefix = "example.com/team/app"
            location = "mirror.test/app"
            """, "example.com/team/app:v1", "example.com/team/app", ["primary mirror.test/app:v1"]),
        new Row("':' counts as a boundary: prefix example.com also covers example.com:5000 (a documented quirk)", """
            [[registry]]
            location = "example.com"
            [[registry.mirror]]
            location = "mirror.test"
            """, "example.com:5000/app:v1", "example.com", ["mirror mirror.test:5000/app:v1", "primary example.com:5000/app:v1"]),
        new Row("a tag in a prefix never matches: containers/image matches the repository name only", """
            [[registry]]
            location = "example.com/app:v1"
            blocked = true
            """, "example.com/app:v1", null, ["primary example.com/app:v1"]),
        new Row("a wildcard covers subdomains at any depth and rewrites the matched host", """
            [[registry]]
            prefix = "*.example.com"
            [[registry.mirror]]
            location = "mirror.test/wild"
            """, "a.b.example.com/team/app:v1", "*.example.com", ["mirror mirror.test/wild/team/app:v1", "primary a.b.example.com/team/app:v1"]),
        new Row("a wildcard does not cover the bare domain", """
            [[registry]]
            prefix = "*.example.com"
            blocked = true
            """, "example.com/app:v1", null, ["primary example.com/app:v1"]),
        new Row("a wildcard matches the host part only, not a path component", """
            [[registry]]
            prefix = "*.example.com"
            blocked = true
            """, "other.test/a.example.com/app:v1", null, ["primary other.test/a.example.com/app:v1"]),
        new Row("a longer host prefix beats a wildcard for the same host (containers/image compares prefix lengths)", """
            [[registry]]
            prefix = "*.example.com"
            [[registry.mirror]]
            location = "wild.mirror.test"
            [[registry]]
            location = "abc.example.com"
            [[registry.mirror]]
            location = "host.mirror.test"
            """, "abc.example.com/app:v1", "abc.example.com", ["mirror host.mirror.test/app:v1", "primary abc.example.com/app:v1"]),
        new Row("the more specific wildcard wins", """
            [[registry]]
            prefix = "*.example.com"
            [[registry.mirror]]
            location = "outer.mirror.test"
            [[registry]]
            prefix = "*.z.example.com"
            [[registry.mirror]]
            location = "inner.mirror.test"
            """, "a.z.example.com/app:v1", "*.z.example.com", ["mirror inner.mirror.test/app:v1", "primary a.z.example.com/app:v1"]),
        new Row("a tag pull uses all and tag-only mirrors, skips digest-only", Mirrored, "example.com/team/app:v1", "example.com/team",
            ["mirror all.mirror.test/team/app:v1", "mirror tag.mirror.test/team/app:v1", "primary example.com/team/app:v1"],
            ["digest.mirror.test/team: digest-only mirror, tag reference"]),
        new Row("a digest pull uses all and digest-only mirrors, skips tag-only", Mirrored, "example.com/team/app@" + Digest, "example.com/team",
            ["mirror all.mirror.test/team/app@" + Digest, "mirror digest.mirror.test/team/app@" + Digest, "primary example.com/team/app@" + Digest],
            ["tag.mirror.test/team: tag-only mirror, digest reference"]),
        new Row("mirror-by-digest-only: a tag pull goes to the primary only", """
            [[registry]]
            location = "example.com/team"
            mirror-by-digest-only = true
            [[registry.mirror]]
            location = "m.mirror.test/team"
            """, "example.com/team/app:v1", "example.com/team", ["primary example.com/team/app:v1"],
            ["m.mirror.test/team: mirror-by-digest-only registry, tag reference"]),
        new Row("mirror-by-digest-only: a digest pull uses the mirror", """
            [[registry]]
            location = "example.com/team"
            mirror-by-digest-only = true
            [[registry.mirror]]
            location = "m.mirror.test/team"
            """, "example.com/team/app@" + Digest, "example.com/team", ["mirror m.mirror.test/team/app@" + Digest, "primary example.com/team/app@" + Digest]),
        new Row("a blocked source is listed last and never contacted; its mirrors still are", """
            [[registry]]
            location = "example.com/team"
            blocked = true
            [[registry.mirror]]
            location = "m.mirror.test/team"
            """, "example.com/team/app:v1", "example.com/team", ["mirror m.mirror.test/team/app:v1", "primary example.com/team/app:v1 (not contacted)"]),
        new Row("a mirror inside a blocked scope is refused too (newDockerClient looks the mirror up again)", """
            [[registry]]
            location = "example.com/team"
            [[registry.mirror]]
            location = "blocked.mirror.test/team"
            [[registry.mirror]]
            location = "open.mirror.test/team"
            [[registry]]
            location = "blocked.mirror.test"
            blocked = true
            """, "example.com/team/app:v1", "example.com/team",
            ["mirror blocked.mirror.test/team/app:v1 (not contacted)", "mirror open.mirror.test/team/app:v1", "primary example.com/team/app:v1"]),
        new Row("docker.io/alpine is normalised to docker.io/library/alpine, so a library/ prefix matches", """
            [[registry]]
            location = "docker.io/library"
            [[registry.mirror]]
            location = "hub.mirror.test/library"
            """, "docker.io/alpine", "docker.io/library", ["mirror hub.mirror.test/library/alpine:latest", "primary docker.io/library/alpine:latest"]),
        new Row("index.docker.io is Docker Hub", "", "index.docker.io/team/app:1", null, ["primary docker.io/team/app:1"]),
        new Row("the same prefix twice in one file: the first table counts", """
            [[registry]]
            prefix = "example.com/team"
            location = "first.test/team"
            [[registry]]
            prefix = "example.com/team"
            location = "second.test/team"
            """, "example.com/team/app:v1", "example.com/team", ["primary first.test/team/app:v1"]),
        new Row("a tag and a digest: the digest decides", Mirrored, "example.com/team/app:v1@" + Digest, "example.com/team",
            ["mirror all.mirror.test/team/app@" + Digest, "mirror digest.mirror.test/team/app@" + Digest, "primary example.com/team/app@" + Digest],
            ["tag.mirror.test/team: tag-only mirror, digest reference"]),
        new Row("an insecure wildcard without location: the reference is pulled as it is", """
            [[registry]]
            prefix = "*.dev.example.com"
            insecure = true
            """, "r.dev.example.com/app:v1", "*.dev.example.com", ["primary r.dev.example.com/app:v1"]),
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Pull_sources_follow_containers_image(Row row)
    {
        _root.Write(HostPaths.RegistriesConf, row.Conf);
        var candidate = Explain(row.Image).Candidates.Should().ContainSingle(row.Reason).Which;

        candidate.Registry?.Prefix.Should().Be(row.Prefix, row.Reason);
        if (row.Prefix is null)
        {
            candidate.Registry.Should().BeNull(row.Reason);
        }
        candidate.Sources.Select(Describe).Should().Equal(row.Sources, row.Reason);
        candidate.SkippedMirrors.Select(s => $"{s.Location}: {s.Reason}").Should().Equal(row.Skipped ?? [], row.Reason);
    }

    [Fact]
    public void Insecure_is_per_endpoint_the_primary_taking_its_table_flag()
    {
        _root.Write(HostPaths.RegistriesConf, """
            [[registry]]
            location = "example.com/team"
            insecure = true
            [[registry.mirror]]
            location = "secure.mirror.test/team"
            [[registry.mirror]]
            location = "plain.mirror.test/team"
            insecure = true
            """);
        var sources = Explain("example.com/team/app:v1").Candidates[0].Sources;
        sources.Select(s => (s.Host, s.Insecure)).Should().Equal(("secure.mirror.test", false), ("plain.mirror.test", true), ("example.com", true));
    }

    [Fact]
    public void A_later_drop_in_replaces_the_whole_table_and_lexical_order_decides()
    {
        _root.Write(HostPaths.RegistriesConf, """
            unqualified-search-registries = ["main.test"]
            [[registry]]
            location = "example.com/team"
            [[registry.mirror]]
            location = "main.mirror.test/team"
            [[registry.mirror]]
            location = "second-main.mirror.test/team"
            """);
        _root.Write("etc/containers/registries.conf.d/20-b.conf", """
            [[registry]]
            location = "example.com/team"
            [[registry.mirror]]
            location = "b.mirror.test/team"
            """);
        _root.Write("etc/containers/registries.conf.d/10-a.conf", """
            unqualified-search-registries = []
            [[registry]]
            location = "example.com/team"
            [[registry.mirror]]
            location = "a.mirror.test/team"
            """);
        _root.Write("etc/containers/registries.conf.d/30-c.conf.bak", "this is not TOML and is not read");
        _root.Write("etc/containers/registries.conf.d/sub/40-d.conf", "neither is this: no recursion");

        var explanation = Explain("example.com/team/app:v1");

        explanation.Files.RegistriesConf.Should().Equal(HostPaths.RegistriesConf,
            "etc/containers/registries.conf.d/10-a.conf", "etc/containers/registries.conf.d/20-b.conf");
        var candidate = explanation.Candidates.Single();
        candidate.Registry!.Origin.Should().Be("etc/containers/registries.conf.d/20-b.conf", "the last file with the prefix wins");
        candidate.Sources.Select(Describe).Should().Equal(["mirror b.mirror.test/team/app:v1", "primary example.com/team/app:v1"],
            "its mirrors replace the earlier ones; they are not merged");

        var shortName = Explain("app").ShortName!;
        shortName.SearchRegistries.Should().BeEmpty("a later file's [] replaces the search list");
        shortName.SearchRegistriesOrigin.Should().Be("etc/containers/registries.conf.d/10-a.conf");
    }

    [Fact]
    public void A_v1_drop_in_is_an_error_naming_it()
    {
        _root.Write(HostPaths.RegistriesConf, "");
        _root.Write("etc/containers/registries.conf.d/50-old.conf", "[registries.search]\nregistries = [\"quay.io\"]\n");
        var act = () => Explain("quay.io/a/b");
        act.Should().Throw<RegistriesConfException>().WithMessage("*50-old.conf*registry must be in v2 format but is in v1*");
    }

    [Fact]
    public void Aliases_merge_key_by_key_and_an_empty_value_erases()
    {
        _root.Write(HostPaths.RegistriesConf, """
            unqualified-search-registries = ["search.test"]
            [aliases]
            "app" = "first.test/team/app"
            "tool" = "tools.test/tool"
            """);
        _root.Write("etc/containers/registries.conf.d/10-site.conf", """
            [aliases]
            "app" = "docker.io/app"
            "tool" = ""
            """);

        var app = Explain("app:v2");
        app.ShortName!.Alias.Should().Be("docker.io/library/app", "the later file wins, normalised");
        app.ShortName.AliasOrigin.Should().Be("etc/containers/registries.conf.d/10-site.conf");
        app.Candidates.Select(c => c.Reference).Should().Equal("docker.io/library/app:v2");

        var tool = Explain("tool");
        tool.ShortName!.Alias.Should().BeNull("an empty alias erases the earlier one");
        tool.Candidates.Select(c => c.Reference).Should().Equal("search.test/tool:latest");
    }

    [Fact]
    public void The_machine_written_alias_cache_wins_over_registries_conf()
    {
        _root.Write(HostPaths.RegistriesConf, "[aliases]\n\"app\" = \"conf.test/app\"\n");
        _root.Write(HostPaths.ShortNameAliasesCache, "[aliases]\n\"app\" = \"cache.test/app\"\n");
        var explanation = Explain("app");
        explanation.ShortName!.AliasOrigin.Should().Be(HostPaths.ShortNameAliasesCache);
        explanation.Candidates.Select(c => c.Reference).Should().Equal("cache.test/app:latest");
    }

    [Fact]
    public void A_short_name_lists_every_search_registry_in_order_and_enforcing_is_explained()
    {
        _root.Write(HostPaths.RegistriesConf, """
            unqualified-search-registries = ["registry.access.redhat.com", "docker.io"]
            short-name-mode = "enforcing"
            """);
        var explanation = Explain("ubi");
        explanation.Notes.Should().Contain(n => n.Contains(":latest", StringComparison.Ordinal));
        explanation.Candidates.Select(c => c.Reference).Should().Equal("registry.access.redhat.com/ubi:latest", "docker.io/library/ubi:latest");
        explanation.ShortName!.Mode.Should().Be("enforcing");
        explanation.ShortName.Outcome.Should().Contain("cannot prompt without a TTY");
    }

    [Fact]
    public void A_short_name_without_search_registries_fails()
    {
        _root.Write(HostPaths.RegistriesConf, "");
        var explanation = Explain("ubi");
        explanation.Candidates.Should().BeEmpty();
        explanation.ShortName!.Outcome.Should().Contain("no unqualified-search registries are defined");
    }

    [Theory]
    [InlineData("Upper/Case", "repository name must be lowercase")]
    [InlineData("quay.io/app:-bad", "not a valid tag")]
    [InlineData("quay.io/app@sha256:abc", "not a digest")]
    [InlineData("", "empty")]
    public void An_invalid_reference_says_why(string image, string message)
    {
        _root.Write(HostPaths.RegistriesConf, "");
        var act = () => Explain(image);
        act.Should().Throw<InvalidReferenceException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Unknown_keys_become_warnings()
    {
        _root.Write(HostPaths.RegistriesConf, "[[registry]]\nlocation = \"quay.io\"\nmirror-by-digest = true\n");
        Explain("quay.io/a/b").Warnings.Should().ContainSingle().Which.Should()
            .Be("etc/containers/registries.conf: line 3: registry.mirror-by-digest: not a key containers/image reads; it is ignored (a typo?)");
    }

    private Explanation Explain(string image) =>
        PullExplainer.Explain(image, ConsumerFiles.Load(new HostPaths(_root.Path), new List<string>()));

    private static string Describe(SourceExplanation source) =>
        $"{source.Kind} {source.Reference}{(source.Contacted ? "" : " (not contacted)")}";
}
