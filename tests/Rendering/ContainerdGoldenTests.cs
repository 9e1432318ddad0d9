using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Every case under <c>tests/testdata/containerd/</c> (<see cref="GoldenCase"/>), run with
/// <c>--runtime containerd</c> unless the case's <c>args</c> names a runtime: exactly the expected
/// hosts.toml and CA files, and exactly the warnings in the case's <c>stderr</c> file, since a
/// warning is how node-agent says what containerd cannot express. <c>make golden</c> rewrites the
/// expected files; the real client reads them in tests/Consumer. Every mapping rule names the case
/// that shows it and what in that case shows it, and every case shows a rule.
/// </summary>
public sealed class ContainerdGoldenTests
{
    public const string Area = "containerd";

    public static TheoryData<string> Cases() => GoldenCase.Names(Area);

    /// <summary>
    /// Each rule of the mapping (README, "containerd nodes": both tables, and
    /// agent/Rendering/ContainerdHostsRenderer.cs) with the case that shows it and what in that
    /// case shows it: a file of the case (an expected file, or <c>stderr</c>, which lists the exact
    /// warnings) and text it must contain. The golden test checks that the file is what node-agent
    /// writes or prints, so each row holds for the real render.
    /// </summary>
    private static readonly MappingRule[] MappingRules =
    [
        new("a whole-host source is a hosts.toml of its own, the source its server",
            "01-host-source-digest-and-tag-mirrors", Hosts("registry.example.com"), "server = \"https://registry.example.com\"\n"),
        new("a mirror's path goes after /v2, with override_path",
            "01-host-source-digest-and-tag-mirrors", Hosts("registry.example.com"), "[host.\"https://mirror-a.example.com/v2/registry\"]\n  capabilities = [\"pull\"]\n  override_path = true\n"),
        new("a mirror without a path is the bare host, without override_path",
            "01-host-source-digest-and-tag-mirrors", Hosts("registry.example.com"), "[host.\"https://mirror-b.example.com\"]\n  capabilities = [\"pull\"]\n\n"),
        new("digest mirrors (IDMS, ICSP) may pull; tag mirrors (ITMS) may pull and resolve, after the digest mirrors",
            "01-host-source-digest-and-tag-mirrors", Hosts("registry.example.com"), "  capabilities = [\"pull\"]\n\n[host.\"https://mirror-t.example.com/v2/tags/registry\"]\n  capabilities = [\"pull\", \"resolve\"]\n"),
        new("a mirror in both groups is one entry, at its digest position, with both capabilities",
            "15-mirror-in-both-groups-one-entry", Hosts("registry.example.com"), "[host.\"https://digest.example.com/v2/registry\"]\n  capabilities = [\"pull\"]\n  override_path = true\n\n[host.\"https://both.example.com/v2/registry\"]\n  capabilities = [\"pull\", \"resolve\"]\n"),
        new("several lists for one source: one entry per mirror in MCO's merged order",
            "02-merged-order-of-several-lists", Hosts("registry.example.com"), "[host.\"https://a.example.com\"]\n  capabilities = [\"pull\"]\n\n[host.\"https://c.example.com\"]\n  capabilities = [\"pull\"]\n\n[host.\"https://b.example.com\"]\n  capabilities = [\"pull\"]\n\n[host.\"https://d.example.com\"]\n"),
        new("docker.io as the source is contacted as registry-1.docker.io",
            "11-docker-io-source-and-mirror", Hosts("docker.io"), "server = \"https://registry-1.docker.io\"\n"),
        new("docker.io as a mirror is contacted as registry-1.docker.io",
            "11-docker-io-source-and-mirror", Hosts("quay.example.com"), "[host.\"https://registry-1.docker.io/v2/quaymirror\"]\n"),
        new("NeverContactSource: the server may only push, the mirrors stay",
            "03-never-contact-source", Hosts("registry.example.com"), "server = \"https://registry.example.com\"\ncapabilities = [\"push\"]\n\n[host.\"https://mirror.example.com/v2/registry\"]\n"),
        new("a blocked host with mirrors: the server may only push, the mirrors stay",
            "04-blocked-host-with-mirrors", Hosts("registry.example.com"), "capabilities = [\"push\"]\n\n[host.\"https://mirror.example.com/v2/registry\"]\n"),
        new("a blocked host with mirrors is warned about: containerd reads no policy.json",
            "04-blocked-host-with-mirrors", "stderr", "\"registry.example.com\" is never contacted and its mirrors are kept, but containerd reads no policy.json"),
        new("a blocked host without mirrors: a push-only server and the empty [host] table containerd 1.6 and 1.7 need",
            "05-blocked-docker-io-without-mirrors", Hosts("docker.io"), "capabilities = [\"push\"]\n\n# No mirrors. containerd 1.6 and 1.7 need a host table, or they ignore this file and contact the registry directly.\n[host]\n"),
        new("a host under a blocked *.domain that has a hosts.toml may only push",
            "09-wildcard-source-and-scopes-warned", Hosts("old.blocked.example.com"), "server = \"https://old.blocked.example.com\"\ncapabilities = [\"push\"]\n"),
        new("a blocked *.domain is warned about, naming the hosts it covers",
            "09-wildcard-source-and-scopes-warned", "stderr", "\"*.blocked.example.com\" is blocked on containerd nodes only for the hosts node-agent writes a hosts.toml for (old.blocked.example.com)"),
        new("an insecure host: skip_verify on the server, https:// kept",
            "06-insecure-host-and-mirror", Hosts("registry.example.com"), "server = \"https://registry.example.com\"\nskip_verify = true\n"),
        new("an insecure host is warned about: a plain-HTTP registry is not reachable",
            "06-insecure-host-and-mirror", "stderr", "\"registry.example.com\" is insecure: hosts.toml skips TLS verification (skip_verify) but keeps https://"),
        new("a mirror inside an insecure scope skips verification",
            "06-insecure-host-and-mirror", Hosts("registry.example.com"), "[host.\"https://insecure-mirror.example.com:5000/v2/team/registry\"]\n  capabilities = [\"pull\"]\n  override_path = true\n  skip_verify = true\n"),
        new("a mirror under an insecure *.domain skips verification, and the scope is warned about",
            "09-wildcard-source-and-scopes-warned", "stderr", "\"*.lab.example.com\" skips TLS verification on containerd nodes only for the hosts node-agent writes a hosts.toml for (none) and for mirrors under it"),
        new("an insecure scope narrower than a host is warned about",
            "10-nested-scopes-under-a-host-source", "stderr", "TLS verification cannot be skipped for \"registry.example.com/legacy\" alone"),
        new("a CA for the source's host: ca on the server, naming the certs.d file node-agent writes",
            "07-ca-for-source-mirror-and-lone-host", Hosts("registry.example.com:8443"), "server = \"https://registry.example.com:8443\"\nca = \"/etc/docker/certs.d/registry.example.com:8443/ca.crt\"\n"),
        new("a CA for a mirror's host: ca on that mirror",
            "07-ca-for-source-mirror-and-lone-host", Hosts("registry.example.com:8443"), "  override_path = true\n  ca = \"/etc/docker/certs.d/mirror.example.com:5000/ca.crt\"\n"),
        new("a host with a CA and nothing else gets a hosts.toml of its own",
            "07-ca-for-source-mirror-and-lone-host", Hosts("lone.example.com"), "server = \"https://lone.example.com\"\nca = \"/etc/docker/certs.d/lone.example.com/ca.crt\"\n"),
        new("a repository-scoped source is not written, and warned about",
            "08-repository-scoped-sources-warned", "stderr", "the mirrors of \"registry.example.com/team/app\" are not written: hosts.toml applies to every repository of registry.example.com"),
        new("a repository-scoped source whose mirror changes the repository path names the mirror it cannot map to",
            "08-repository-scoped-sources-warned", "stderr", "cannot map to \"mirror.example.com/openshift/release-images\""),
        new("NeverContactSource on a repository-scoped source is warned about as not enforced",
            "08-repository-scoped-sources-warned", "stderr", "and NeverContactSource is not enforced there"),
        new("a repository-scoped source on a blocked host: the warning says its pulls fail",
            "17-repository-source-under-blocked-host-warned", "stderr", "On containerd nodes its pulls go where registry.example.com is configured, which blocks them: they fail"),
        new("a repository-scoped source under a written host source is warned about; the host's file is written",
            "10-nested-scopes-under-a-host-source", "stderr", "the mirrors of \"registry.example.com/team/app\" are not written"),
        new("a wildcard source is not written, and warned about",
            "09-wildcard-source-and-scopes-warned", "stderr", "the mirrors of \"*.corp.example.com\" are not written: a containerd host namespace is one registry host"),
        new("a blocked scope narrower than a host is warned about as not blocked",
            "10-nested-scopes-under-a-host-source", "stderr", "\"registry.example.com/private\" is not blocked on containerd nodes"),
        new("a mirror inside a blocked scope is left out, and warned about",
            "12-mirror-under-blocked-scope-left-out", "stderr", "the mirror \"bad-mirror.example.com/registry\" of \"registry.example.com\" is not written: it overlaps the blocked scope \"bad-mirror.example.com\""),
        new("a mirror containing a blocked scope is left out, and warned about",
            "16-mirror-above-blocked-scope-left-out", "stderr", "the mirror \"shared-mirror.example.com\" of \"registry.example.com\" is not written: it overlaps the blocked scope \"shared-mirror.example.com/private\""),
        new("allowedRegistries is warned about as not enforced",
            "13-allowed-registries-warned", "stderr", "allowedRegistries is not enforced on containerd nodes"),
        new("--runtime both writes registries.conf from the same objects",
            "14-runtime-both-writes-everything", "expected/etc/containers/registries.conf", "location = \"registry.example.com\""),
        new("--runtime both writes the hosts.toml files from the same objects",
            "14-runtime-both-writes-everything", Hosts("registry.example.com"), "[host.\"https://mirror.example.com/v2/registry\"]\n"),
    ];

    public static TheoryData<string> Rules() => new(MappingRules.Select(r => r.Rule));

    [Theory]
    [MemberData(nameof(Rules))]
    public void Mapping_rule_has_a_golden_case_that_shows_it(string rule)
    {
        var row = MappingRules.Single(r => r.Rule == rule);
        var file = Path.Join(RepoPaths.TestData, Area, row.Case, row.File);
        Directory.Exists(Path.Join(RepoPaths.TestData, Area, row.Case)).Should().BeTrue($"the rule \"{rule}\" names case {row.Case}");
        File.Exists(file).Should().BeTrue($"case {row.Case} shows \"{rule}\" in {row.File}");
        File.ReadAllText(file).Should().Contain(row.Evidence, $"case {row.Case} shows \"{rule}\"");
    }

    [Fact]
    public void Every_case_shows_a_mapping_rule_and_says_why()
    {
        var claimed = MappingRules.Select(r => r.Case).ToHashSet(StringComparer.Ordinal);
        foreach (var name in Directory.EnumerateDirectories(Path.Join(RepoPaths.TestData, Area)).Select(Path.GetFileName))
        {
            claimed.Should().Contain(name, $"case {name} shows a rule, so MappingRules names it with what in the case shows the rule");
            var why = File.ReadAllLines(Path.Join(RepoPaths.TestData, Area, name!, "case.md"));
            why.Should().Contain(line => line.StartsWith("Rule: ", StringComparison.Ordinal), $"case {name}'s case.md says which rule it shows");
            why.Should().Contain(line => line.StartsWith("Why: ", StringComparison.Ordinal), $"case {name}'s case.md says why");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_renders_exactly_the_expected_files_and_warnings(string name) =>
        GoldenCase.Run(Area, name, ["--runtime", "containerd"], exactDiagnostics: true);

    /// <summary>Every expected hosts.toml below <c>tests/testdata/containerd</c>: (case's expected root, path below it).</summary>
    public static IEnumerable<(string Root, string Relative)> ExpectedHostsFiles() =>
        Directory.EnumerateFiles(Path.Join(RepoPaths.TestData, Area), "hosts.toml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(file =>
            {
                var root = file[..(file.IndexOf("/expected/", StringComparison.Ordinal) + "/expected".Length)];
                return (root, Path.GetRelativePath(root, file));
            });

    private static string Hosts(string registry) => $"expected/etc/containerd/certs.d/{registry}/hosts.toml";

    private sealed record MappingRule(string Rule, string Case, string File, string Evidence);

    [Fact]
    public void Every_expected_hosts_toml_has_the_strict_shape_and_names_only_CA_files_that_exist()
    {
        var files = ExpectedHostsFiles().ToList();
        files.Should().HaveCountGreaterThanOrEqualTo(10);
        foreach (var (root, relative) in files)
        {
            var shape = HostsTomlShape.Parse(File.ReadAllText(Path.Join(root, relative)));
            Path.GetFileName(Path.GetDirectoryName(relative)).Should().MatchRegex("^[a-z0-9.-]+(:[0-9]+)?$", "the directory is the registry host[:port]");
            foreach (var endpoint in shape.TryOrder.Where(e => e.Ca is not null))
            {
                File.Exists(Path.Join(root, endpoint.Ca)).Should().BeTrue($"{relative} names {endpoint.Ca}, which the same pass writes");
            }
        }
    }
}
