using System.Text;
using FluentAssertions;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Table tests of the containerd mapping, a reason per row: each row is the rules a render
/// produced (merged sets and scopes) and the CA files known, and what must come out: the
/// hosts.toml of one registry host (or none), and a fragment of the warning (or none).
/// </summary>
public sealed class ContainerdHostsRendererTests
{
    private const string Header = "# Written by node-agent from the cluster's image objects; changes made here are overwritten.\n";
    private const string PushOnlyComment = "# Pulls never reach the server (NeverContactSource or blocked); containerd always keeps a server, so it may push only.\n";

    public sealed record Row(string Reason, RegistryRules Rules, string Namespace, string? Toml, string? Warning)
    {
        public IReadOnlyDictionary<string, string> Ca { get; init; } = new Dictionary<string, string>();

        public override string ToString() => Reason;
    }

    public static TheoryData<Row> Rows() =>
    [
        new("a digest mirror may pull but not resolve tags",
            Rules(digest: [Set("reg.example.com", "m.example.com")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://m.example.com", "pull")), null),
        new("a tag mirror may pull and resolve tags",
            Rules(tag: [Set("reg.example.com", "m.example.com")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://m.example.com", "pull\", \"resolve")), null),
        new("digest mirrors come before tag mirrors, as in registries.conf",
            Rules(digest: [Set("reg.example.com", "d.example.com")], tag: [Set("reg.example.com", "t.example.com")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://d.example.com", "pull"), Host("https://t.example.com", "pull\", \"resolve")), null),
        new("a mirror in both groups is one table, at its digest position, trusted to resolve",
            Rules(digest: [Set("reg.example.com", "both.example.com", "d.example.com")], tag: [Set("reg.example.com", "t.example.com", "both.example.com")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://both.example.com", "pull\", \"resolve"), Host("https://d.example.com", "pull"),
                Host("https://t.example.com", "pull\", \"resolve")), null),
        new("the merged order is kept as it is, not sorted",
            Rules(digest: [Set("reg.example.com", "z.example.com", "a.example.com")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://z.example.com", "pull"), Host("https://a.example.com", "pull")), null),
        new("a mirror path goes after /v2 with override_path: containerd appends the repository to it",
            Rules(digest: [Set("reg.example.com", "m.example.com:5000/ns/sub")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://m.example.com:5000/v2/ns/sub", "pull", "  override_path = true\n")), null),
        new("NeverContactSource: the server may only push, so no pull or resolve reaches it",
            Rules(digest: [Set("reg.example.com", "m.example.com") with { NeverContactSource = true }]), "reg.example.com",
            Toml(PushOnlyComment + "server = \"https://reg.example.com\"\ncapabilities = [\"push\"]\n", Host("https://m.example.com", "pull")), null),
        new("NeverContactSource in the tag group alone also keeps pulls off the server, as the blocked registries.conf entry does",
            Rules(tag: [Set("reg.example.com", "m.example.com") with { NeverContactSource = true }]), "reg.example.com",
            Toml(PushOnlyComment + "server = \"https://reg.example.com\"\ncapabilities = [\"push\"]\n", Host("https://m.example.com", "pull\", \"resolve")), null),
        new("a blocked host without mirrors still gets a file, with an empty host table so that containerd 1.6 and 1.7 read it: without it they pull from the host",
            Rules(blocked: ["reg.example.com"]), "reg.example.com",
            Toml(PushOnlyComment + "server = \"https://reg.example.com\"\ncapabilities = [\"push\"]\n"), null),
        new("a blocked host keeps its mirrors, with a warning that containerd has no policy.json to reject the pull",
            Rules(digest: [Set("reg.example.com", "m.example.com")], blocked: ["reg.example.com"]), "reg.example.com",
            Toml(PushOnlyComment + "server = \"https://reg.example.com\"\ncapabilities = [\"push\"]\n", Host("https://m.example.com", "pull")),
            "containerd reads no policy.json, so pulls through the mirrors succeed"),
        new("a wildcard blocked scope blocks the hosts that have a file, and says the others are not covered",
            Rules(digest: [Set("a.blocked.example", "m.example.com")], blocked: ["*.blocked.example"]), "a.blocked.example",
            Toml(PushOnlyComment + "server = \"https://a.blocked.example\"\ncapabilities = [\"push\"]\n", Host("https://m.example.com", "pull")),
            "is blocked on containerd nodes only for the hosts node-agent writes a hosts.toml for (a.blocked.example)"),
        new("a repository cannot be blocked: the host stays reachable, warned",
            Rules(blocked: ["reg.example.com/private"]), "reg.example.com", null,
            "\"reg.example.com/private\" is not blocked on containerd nodes"),
        new("an insecure host skips verification and says plain HTTP is not used",
            Rules(insecure: ["reg.example.com"]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\nskip_verify = true\n"), "so a registry that serves only plain HTTP is not reachable from containerd"),
        new("a mirror inside an insecure wildcard skips verification; the source does not",
            Rules(digest: [Set("reg.example.com", "m.lab.example")], insecure: ["*.lab.example"]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://m.lab.example", "pull", "  skip_verify = true\n")),
            "skips TLS verification on containerd nodes only for the hosts node-agent writes a hosts.toml for (none) and for mirrors under it"),
        new("an insecure repository scope covers mirrors inside it but not the host's own pulls, warned",
            Rules(digest: [Set("reg.example.com", "m.example.com/insecure/reg")], insecure: ["m.example.com/insecure"]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://m.example.com/v2/insecure/reg", "pull", "  override_path = true\n  skip_verify = true\n")),
            "TLS verification cannot be skipped for \"m.example.com/insecure\" alone"),
        new("ca names the synced CA file for the server and for a mirror on a host that has one",
            Rules(digest: [Set("reg.example.com:8443", "m.example.com:5000/reg", "plain.example.com")]), "reg.example.com:8443",
            Toml("server = \"https://reg.example.com:8443\"\nca = \"/etc/docker/certs.d/reg.example.com:8443/ca.crt\"\n",
                Host("https://m.example.com:5000/v2/reg", "pull", "  override_path = true\n  ca = \"/etc/docker/certs.d/m.example.com:5000/ca.crt\"\n"),
                Host("https://plain.example.com", "pull")), null)
        {
            Ca = new Dictionary<string, string>
            {
                ["reg.example.com:8443"] = "/etc/docker/certs.d/reg.example.com:8443/ca.crt",
                ["m.example.com:5000"] = "/etc/docker/certs.d/m.example.com:5000/ca.crt",
            },
        },
        new("a host with only a CA gets a file, so containerd trusts it for direct pulls",
            Rules(), "lone.example.com",
            Toml("server = \"https://lone.example.com\"\nca = \"/etc/containers/certs.d/lone.example.com/ca.crt\"\n"), null)
        {
            Ca = new Dictionary<string, string> { ["lone.example.com"] = "/etc/containers/certs.d/lone.example.com/ca.crt" },
        },
        new("a port is part of the namespace and of the server URL",
            Rules(digest: [Set("reg.example.com:5000", "m.example.com:6000")]), "reg.example.com:5000",
            Toml("server = \"https://reg.example.com:5000\"\n", Host("https://m.example.com:6000", "pull")), null),
        new("docker.io is served by registry-1.docker.io, as containerd's own default",
            Rules(digest: [Set("docker.io", "m.example.com/hub")]), "docker.io",
            Toml("server = \"https://registry-1.docker.io\"\n", Host("https://m.example.com/v2/hub", "pull", "  override_path = true\n")), null),
        new("docker.io as a mirror is also registry-1.docker.io",
            Rules(digest: [Set("reg.example.com", "docker.io/library")]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://registry-1.docker.io/v2/library", "pull", "  override_path = true\n")), null),
        new("a repository-scoped source is not written: its mirrors would receive every repository of the host",
            Rules(digest: [Set("reg.example.com/team/app", "m.example.com/team/app")]), "reg.example.com", null,
            "hosts.toml applies to every repository of reg.example.com, so they would also receive pulls of its other repositories. On containerd"),
        new("a repository-scoped source whose mirror renames the repository also says containerd cannot rewrite it",
            Rules(digest: [Set("reg.example.com/team/app", "m.example.com/other")]), "reg.example.com", null,
            "cannot map to \"m.example.com/other\""),
        new("NeverContactSource on a repository-scoped source is said not to be enforced",
            Rules(digest: [Set("reg.example.com/team/app", "m.example.com/team/app") with { NeverContactSource = true }]), "reg.example.com", null,
            "and NeverContactSource is not enforced there"),
        new("a repository-scoped source under a blocked host says its pulls fail there (CRI-O would still use its mirror)",
            Rules(digest: [Set("quay.io/release/ocp", "m.example.com/release/ocp")], blocked: ["quay.io"]), "quay.io",
            Toml(PushOnlyComment + "server = \"https://quay.io\"\ncapabilities = [\"push\"]\n"),
            "On containerd nodes its pulls go where quay.io is configured, which blocks them: they fail"),
        new("a wildcard source is not written: containerd has no wildcard namespace",
            Rules(digest: [Set("*.example.com", "m.example.net")]), "*.example.com", null,
            "there is no wildcard namespace, and _default would apply to every registry"),
        new("a mirror inside a blocked scope is left out: CRI-O refuses it, containerd would contact it",
            Rules(digest: [Set("reg.example.com", "bad.example.com/reg", "good.example.com")], blocked: ["bad.example.com"]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n", Host("https://good.example.com", "pull")),
            "the mirror \"bad.example.com/reg\" of \"reg.example.com\" is not written: it overlaps the blocked scope \"bad.example.com\""),
        new("a mirror with a blocked repository below it is left out too: containerd would send that repository's pulls to it",
            Rules(digest: [Set("reg.example.com", "m.example.com")], blocked: ["m.example.com/secret"]), "reg.example.com",
            Toml("server = \"https://reg.example.com\"\n"), "overlaps the blocked scope \"m.example.com/secret\""),
        new("a scope that is not a host name never becomes a directory",
            Rules(blocked: ["../etc"]), "../etc", null, "\"../etc\" is not a registry host[:port], a repository in one or a *.domain, so nothing is written for it"),
        new("allowedRegistries cannot be enforced: containerd reads no policy",
            Rules(allowed: ["reg.example.com"]), "reg.example.com", null, "allowedRegistries is not enforced on containerd nodes"),
    ];

    [Theory]
    [MemberData(nameof(Rows))]
    public void Mapping(Row row)
    {
        var result = ContainerdHostsRenderer.Render(new ContainerdInputs { Rules = row.Rules, CaFiles = row.Ca });

        var file = result.Files.SingleOrDefault(f => f.Namespace == row.Namespace);
        if (row.Toml is null)
        {
            file.Should().BeNull(row.Reason);
        }
        else
        {
            file.Should().NotBeNull(row.Reason);
            Encoding.UTF8.GetString(ContainerdHostsEncoder.Encode(file!)).Should().Be(row.Toml, row.Reason);
        }
        if (row.Warning is null)
        {
            result.Problems.Should().BeEmpty(row.Reason);
        }
        else
        {
            result.Problems.Should().Contain(p => !p.IsError && p.Message.StartsWith("containerd: ", StringComparison.Ordinal) && p.Message.Contains(row.Warning), row.Reason);
        }
        result.Files.Select(f => f.Namespace).Where(n => !ScopeRules.IsRegistryHost(n)).Should().BeEmpty("only a registry host[:port] may name a directory");
    }

    [Fact]
    public void Warnings_name_the_object_and_field_of_the_source()
    {
        var origin = new FieldRef("ImageDigestMirrorSet/release", "spec.imageDigestMirrors[3].source");
        var rules = Rules(digest: [Set("quay.io/team/app", "m.example.com/app")]) with
        {
            DigestOrigins = new Dictionary<string, FieldRef> { ["quay.io/team/app"] = origin },
        };

        var problem = ContainerdHostsRenderer.Render(new ContainerdInputs { Rules = rules }).Problems.Should().ContainSingle().Subject;

        problem.ToString().Should().StartWith("warning: ImageDigestMirrorSet/release: spec.imageDigestMirrors[3].source: containerd: the mirrors of \"quay.io/team/app\" are not written");
    }

    [Fact]
    public void Files_come_in_byte_order_and_the_same_rules_give_the_same_bytes()
    {
        var rules = Rules(digest: [Set("b.example.com", "m.example.com"), Set("B.example.com", "m.example.com"), Set("a.example.com:5000", "m.example.com")], blocked: ["c.example.com"]);

        var first = ContainerdHostsRenderer.Render(new ContainerdInputs { Rules = rules });
        var second = ContainerdHostsRenderer.Render(new ContainerdInputs { Rules = rules });

        first.Files.Select(f => f.Namespace).Should().Equal("B.example.com", "a.example.com:5000", "b.example.com", "c.example.com");
        first.Files.Select(ContainerdHostsEncoder.Encode).Should().BeEquivalentTo(second.Files.Select(ContainerdHostsEncoder.Encode), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Urls_and_paths_are_escaped_as_TOML_strings()
    {
        var file = new ContainerdHostsFile("reg.example.com",
            new ContainerdEndpoint("https://reg.example.com", [], false, false, "/etc/docker/certs.d/\"x\"\\\n[y]/ca.crt"),
            [new ContainerdEndpoint("https://m\"]\n[host.\"evil", ["pull"], false, false, null)]);

        var toml = Encoding.UTF8.GetString(ContainerdHostsEncoder.Encode(file));

        toml.Should().Contain("ca = \"/etc/docker/certs.d/\\\"x\\\"\\\\\\n[y]/ca.crt\"\n")
            .And.Contain("[host.\"https://m\\\"]\\n[host.\\\"evil\"]\n");
        toml.Split('\n').Where(l => l.StartsWith('[')).Should().ContainSingle("no input can open a table");
    }

    private static MergedMirrorSet Set(string source, params string[] mirrors) => new(source, mirrors, NeverContactSource: false, CycleBroken: false);

    private static RegistryRules Rules(
        MergedMirrorSet[]? digest = null, MergedMirrorSet[]? tag = null, string[]? insecure = null, string[]? blocked = null, string[]? allowed = null) => new()
    {
        DigestSets = digest ?? [],
        TagSets = tag ?? [],
        Insecure = Scopes(insecure, "insecureRegistries"),
        Blocked = Scopes(blocked, "blockedRegistries"),
        Allowed = Scopes(allowed, "allowedRegistries"),
    };

    private static List<ScopeEntry> Scopes(string[]? scopes, string field) =>
        (scopes ?? []).Select((s, i) => new ScopeEntry(s, new FieldRef("Image/cluster", $"spec.registrySources.{field}[{i}]"))).ToList();

    // With no mirror the file ends with an empty host table: containerd 1.6 and 1.7 ignore a file
    // without one and contact the registry directly.
    private static string Toml(string root, params string[] hosts) =>
        Header + root + (hosts.Length == 0 ? $"\n# {ContainerdHostsEncoder.NoMirrors}\n[host]\n" : string.Concat(hosts));

    private static string Host(string url, string capabilities, string more = "") =>
        $"\n[host.\"{url}\"]\n  capabilities = [\"{capabilities}\"]\n{more}";
}
