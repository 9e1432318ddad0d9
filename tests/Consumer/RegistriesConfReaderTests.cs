using FluentAssertions;
using NodeAgent.Consumer;
using NodeAgent.Rendering;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// registries.conf read as containers/image loads one file: every file node-agent renders reads
/// back as the model it was written from, hand-written files, and each load-time error of
/// containers-image.md §3.8 naming the file and line.
/// </summary>
public sealed class RegistriesConfReaderTests
{
    private const string Origin = "etc/containers/registries.conf";

    public static TheoryData<string> RenderedFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Join(RepoPaths.TestData, "registries"), "*.conf", SearchOption.AllDirectories)
                     .Where(f => f.Replace('\\', '/').Contains("/expected/etc/containers/", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(RepoPaths.TestData, file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RenderedFiles))]
    public void Every_rendered_file_reads_back_as_the_model_it_was_written_from(string relative)
    {
        var bytes = File.ReadAllBytes(Path.Join(RepoPaths.TestData, relative));
        var file = RegistriesConfReader.Parse(System.Text.Encoding.UTF8.GetString(bytes), relative);

        file.ShortNameMode.Should().Be("", "node-agent writes short-name-mode = \"\"");
        file.Aliases.Should().BeEmpty();
        file.IgnoredKeys.Should().BeEmpty("every key node-agent writes is one containers/image reads");
        var model = new RegistriesConf();
        model.UnqualifiedSearchRegistries.AddRange(file.UnqualifiedSearchRegistries!);
        model.Registries.AddRange(file.Registries);
        var again = relative.EndsWith("01-image-searchRegistries.conf", StringComparison.Ordinal)
            ? RegistriesConfEncoder.EncodeSearchDropIn(file.UnqualifiedSearchRegistries!)
            : RegistriesConfEncoder.Encode(model);
        System.Text.Encoding.UTF8.GetString(again).Should().Be(System.Text.Encoding.UTF8.GetString(bytes),
            "encoding what was read must give the same bytes: every value was read exactly");
    }

    [Fact]
    public void Reads_a_hand_written_file()
    {
        var file = RegistriesConfReader.Parse("""
            # site registries
            unqualified-search-registries = ["registry.fedoraproject.org", "quay.io/", ]
            short-name-mode = "enforcing"
            credential-helpers = ["containers-auth.json"]

            [aliases]
            "alpine" = "docker.io/alpine"
            "erased" = ""

            [[registry]]
            prefix = "example.com/foo"
            location = 'mirror.example.com/bar/'
            insecure = true
            mirror-by-digest-only = true
            mirror = [{ location = "m1.example.com" }, { location = "m2.example.com", insecure = true }]

            [[registry]]
            location = "quay.io"
            blocked = true

              [[registry.mirror]]
              location = "m3.example.com:5000/quay"
              pull-from-mirror = "tag-only"

            [[registry]]
            prefix = "*.dev.example.com"

            [[registry]]
            prefix = "example.com/foo"
            location = "second.example.com"
            """, Origin);

        file.UnqualifiedSearchRegistries.Should().Equal("registry.fedoraproject.org", "quay.io");
        file.ShortNameMode.Should().Be("enforcing");
        file.Aliases.Should().BeEquivalentTo(new Dictionary<string, string> { ["alpine"] = "docker.io/library/alpine", ["erased"] = "" });
        file.Registries.Select(r => r.EffectivePrefix).Should().Equal(["example.com/foo", "quay.io", "*.dev.example.com"],
            "a repeated prefix in one file: the first table wins");
        var first = file.Registries[0];
        first.Location.Should().Be("mirror.example.com/bar", "a trailing / is trimmed");
        first.Insecure.Should().BeTrue();
        first.MirrorByDigestOnly.Should().BeTrue();
        first.Mirrors.Should().Equal(new MirrorEndpoint("m1.example.com", false, ""), new MirrorEndpoint("m2.example.com", true, ""));
        var quay = file.Registries[1];
        quay.Prefix.Should().Be("", "an unset prefix stays empty; EffectivePrefix is the location");
        quay.Blocked.Should().BeTrue();
        quay.Mirrors.Should().Equal(new MirrorEndpoint("m3.example.com:5000/quay", false, "tag-only"));
        file.Registries[2].Location.Should().BeEmpty();
        file.RegistryLines.Should().BeEquivalentTo(new Dictionary<string, int> { ["example.com/foo"] = 10, ["quay.io"] = 17, ["*.dev.example.com"] = 25 });
        file.IsV1.Should().BeFalse();
    }

    [Fact]
    public void An_unset_search_list_is_null_and_an_empty_one_is_empty()
    {
        RegistriesConfReader.Parse("", Origin).UnqualifiedSearchRegistries.Should().BeNull();
        RegistriesConfReader.Parse("unqualified-search-registries = []", Origin).UnqualifiedSearchRegistries.Should().BeEmpty();
        RegistriesConfReader.Parse("", Origin).ShortNameMode.Should().BeNull();
    }

    [Fact]
    public void Unknown_keys_are_ignored_and_listed()
    {
        var file = RegistriesConfReader.Parse("""
            [[registry]]
            location = "quay.io"
            mirror-by-digest = true
            [[registry.mirror]]
            location = "m.example.com"
            pull-from = "digest-only"
            """, Origin);
        file.Registries.Single().MirrorByDigestOnly.Should().BeFalse("a misspelt key does nothing in containers/image");
        file.IgnoredKeys.Should().Equal("line 3: registry.mirror-by-digest", "line 6: registry.mirror.pull-from");
    }

    [Fact]
    public void Converts_a_v1_file()
    {
        var file = RegistriesConfReader.Parse("""
            [registries.search]
            registries = ["registry.access.redhat.com"]
            [registries.insecure]
            registries = ["insecure.example.com", "both.example.com"]
            [registries.block]
            registries = ["both.example.com"]
            """, Origin);
        file.IsV1.Should().BeTrue();
        file.UnqualifiedSearchRegistries.Should().Equal("registry.access.redhat.com");
        file.Registries.Select(r => (r.Prefix, r.Location, r.Insecure, r.Blocked)).Should().Equal(
            ("both.example.com", "both.example.com", true, true),
            ("insecure.example.com", "insecure.example.com", true, false));
    }

    public static TheoryData<string, int?, string, string> Invalid() => new()
    {
        { "[[registry]\nlocation = \"x\"", 1, "toml: line 1: expected end of table array name delimiter", "toml syntax" },
        { "[[registry]]\nlocation = \"a\"\nlocation = \"b\"", 3, "toml: line 3 (last key \"registry.location\"): key \"registry.location\" has already been defined", "duplicate key" },
        { "[[registry]]\nlocation = \"a\"\ninsecure = \"yes\"", 3, "(last key \"registry.insecure\"): incompatible types: TOML value has type string; destination has type boolean", "wrong type" },
        { "[[registry]]\nlocation = \"https://quay.io\"", 2, "invalid location 'https://quay.io': URI schemes are not supported", "scheme in location" },
        { "[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\nlocation = \"http://m.example.com\"", 4, "invalid location 'http://m.example.com': URI schemes are not supported", "scheme in mirror location" },
        { "\n[[registry]]\ninsecure = true", 2, "invalid condition: both location and prefix are unset", "no prefix, no location" },
        { "[[registry]]\nprefix = \"quay.io\"", 1, "invalid condition: location is unset and prefix is not in the format: *.example.com", "prefix without location" },
        { "[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\ninsecure = true", 3, "invalid condition: mirror location is unset", "mirror without location" },
        { "[[registry]]\nlocation = \"quay.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.example.com\"\npull-from-mirror = \"all\"", 6,
            "cannot set mirror usage mirror-by-digest-only for the registry (\"quay.io\") and pull-from-mirror for per-mirror (\"m.example.com\") at the same time", "digest-only and pull-from-mirror" },
        { "[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\nlocation = \"m.example.com\"\npull-from-mirror = \"sometimes\"", 5,
            "unsupported pull-from-mirror value \"sometimes\" for mirror \"m.example.com\"", "pull-from-mirror value" },
        { "[[registry]]\nlocation = \"quay.io\"\npull-from-mirror = \"all\"", 3, "pull-from-mirror must not be set for a non-mirror registry \"quay.io\"", "pull-from-mirror on the primary" },
        { "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"quay.io\"\n[[registry]]\nprefix = \"b.example.com\"\nlocation = \"quay.io\"\ninsecure = true", 4,
            "registry 'quay.io' is defined multiple times with conflicting 'insecure' setting (also at line 1)", "conflicting insecure" },
        { "[[registry]]\nprefix = \"a.example.com\"\nlocation = \"quay.io\"\nblocked = true\n[[registry]]\nprefix = \"b.example.com\"\nlocation = \"quay.io\"", 5,
            "registry 'quay.io' is defined multiple times with conflicting 'blocked' setting", "conflicting blocked" },
        { "[[registry]]\nprefix = \"*.example.com/team\"\nlocation = \"quay.io\"", 1, "Wildcarded prefix should be in the format: *.example.com. Current prefix \"*.example.com/team\" is incorrectly formatted", "wildcard with a path" },
        { "[[registry]]\nprefix = \"*.example.com:5000\"\nlocation = \"quay.io\"", 1, "Wildcarded prefix should be in the format", "wildcard with a port" },
        { "unqualified-search-registries = [\"registry.example.invalid/team\"]", 1, "Invalid unqualified-search-registries entry \"registry.example.invalid/team\"", "search registry with a path" },
        { "unqualified-search-registries = [\"https://quay.io\"]", 1, "URI schemes are not supported", "search registry with a scheme" },
        { "\nshort-name-mode = \"prompt\"", 2, "invalid short-name mode: \"prompt\"", "short-name mode" },
        { "[aliases]\n\"alpine\" = \"docker.io/library/alpine:latest\"", null, "validating short-name aliases: line 2: invalid alias \"docker.io/library/alpine:latest\": must not contain tag", "alias with a tag" },
        { "[aliases]\n\"quay.io/alpine\" = \"docker.io/library/alpine\"", null, "validating short-name aliases: line 2: invalid short name \"quay.io/alpine\": must not contain registry", "alias name with a registry" },
        { "[aliases]\n\"a\" = \"alpine\"\n\"b:1\" = \"quay.io/b\"", null, "line 2: invalid alias \"alpine\": must contain registry and repository; line 3: invalid short name \"b:1\": must not contain tag", "all bad aliases together" },
        { "unqualified-search-registries = []\n[registries.search]\nregistries = []", 2, "mixing sysregistry v1/v2 is not supported", "mixing v1 and v2" },
        { "registry = \"quay.io\"", 1, "(last key \"registry\"): incompatible types: TOML value has type string; destination has type array of tables", "registry is not a table array" },
        { "unqualified-search-registries = [\"a\", 1]", 1, "destination has type array of strings", "mixed array" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_files_name_the_file_line_and_value(string text, int? line, string message, string reason)
    {
        var act = () => RegistriesConfReader.Parse(text, "etc/containers/registries.conf.d/50-site.conf");
        var error = act.Should().Throw<RegistriesConfException>(reason).Which;
        error.Origin.Should().Be("etc/containers/registries.conf.d/50-site.conf");
        error.Line.Should().Be(line, reason);
        error.Message.Should().StartWith("loading registries configuration \"etc/containers/registries.conf.d/50-site.conf\": ")
            .And.Contain(message, reason);
    }

    [Fact]
    public void A_repeated_prefix_keeps_the_first_table_even_when_the_second_differs()
    {
        var file = RegistriesConfReader.Parse("""
            [[registry]]
            prefix = "example.com/team"
            location = "first.example.com/team"
            [[registry]]
            prefix = "example.com/team"
            location = "second.example.com/team"
            """, Origin);
        file.Registries.Should().ContainSingle().Which.Location.Should().Be("first.example.com/team");
        file.RegistryLines["example.com/team"].Should().Be(1);
    }
}
