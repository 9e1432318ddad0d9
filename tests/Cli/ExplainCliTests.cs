using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary><c>node-agent explain</c> through the built binary: text and JSON, output streams, exit codes, errors.</summary>
public sealed class ExplainCliTests : IDisposable
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private readonly TempRoot _root = new("explain-cli");

    public ExplainCliTests()
    {
        _root.Write("etc/containers/registries.conf", """
            unqualified-search-registries = ["registry.example.com", "docker.io"]

            [[registry]]
              prefix = ""
              location = "quay.example.com/team"
              blocked = true

              [[registry.mirror]]
                location = "mirror.example.com:5000/team"
                pull-from-mirror = "digest-only"

              [[registry.mirror]]
                location = "tags.example.com/team"
                pull-from-mirror = "tag-only"
            """);
        _root.Write("etc/containers/policy.json", """
            {"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"quay.example.com/team":[{"type":"sigstoreSigned","keyPath":"/etc/pki/team.pub"}]}}}
            """);
        _root.Write("etc/docker/certs.d/mirror.example.com:5000/ca.crt", "not checked without --probe\n");
    }

    public void Dispose() => _root.Dispose();

    private ProcessResult Explain(params string[] args) => NodeAgentProcess.Run(["explain", .. args, "--root", _root.Path]);

    [Fact]
    public void Text_explains_the_pull_and_nothing_goes_to_stderr()
    {
        var result = Explain("quay.example.com/team/app@" + Digest);
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().BeEmpty();
        result.Stdout.Should().Contain($"reference   quay.example.com/team/app@{Digest}  (by digest)")
            .And.Contain("registry    [[registry]] prefix quay.example.com/team  (etc/containers/registries.conf:3)")
            .And.Contain("location quay.example.com/team; blocked")
            .And.MatchRegex($@"  1  mirror   mirror\.example\.com:5000/team/app@{Digest} +digest-only; TLS verified")
            .And.MatchRegex($@"  -  primary  quay\.example\.com/team/app@{Digest} +registry quay\.example\.com/team is blocked in etc/containers/registries\.conf:3: not contacted")
            .And.Contain("  skipped  tags.example.com/team: tag-only mirror, digest reference")
            .And.Contain("mirror.example.com:5000  etc/docker/certs.d/mirror.example.com:5000: CA ca.crt (plus the system roots)")
            .And.Contain("policy      requires a valid signature (sigstoreSigned)")
            .And.Contain("- sigstoreSigned: public key file /etc/pki/team.pub");
    }

    [Fact]
    public void Json_is_the_documented_shape()
    {
        var result = Explain("quay.example.com/team/app:v1", "--output", "json");
        result.ExitCode.Should().Be(0, result.ToString());
        var json = JsonNode.Parse(result.Stdout)!;
        json["input"]!.GetValue<string>().Should().Be("quay.example.com/team/app:v1");
        json["files"]!["registriesConf"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("etc/containers/registries.conf");
        json["files"]!["policyJson"]!.GetValue<string>().Should().Be("etc/containers/policy.json");
        var candidate = json["candidates"]![0]!;
        candidate["reference"]!.GetValue<string>().Should().Be("quay.example.com/team/app:v1");
        candidate["byDigest"]!.GetValue<bool>().Should().BeFalse();
        candidate["registry"]!["blocked"]!.GetValue<bool>().Should().BeTrue();
        var sources = candidate["sources"]!.AsArray();
        sources.Select(s => (s!["kind"]!.GetValue<string>(), s["reference"]!.GetValue<string>(), s["contacted"]!.GetValue<bool>())).Should().Equal(
            ("mirror", "tags.example.com/team/app:v1", true),
            ("primary", "quay.example.com/team/app:v1", false));
        sources[0]!["certs"]!["checked"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal(
            "etc/containers/certs.d/tags.example.com", "etc/docker/certs.d/tags.example.com");
        sources[0]!["probe"].Should().BeNull("no probe without --probe");
        candidate["skippedMirrors"]![0]!["reason"]!.GetValue<string>().Should().Be("digest-only mirror, tag reference");
        candidate["policy"]!["verdict"]!.GetValue<string>().Should().Be("signature-required");
        candidate["policy"]!["matchedScope"]!.GetValue<string>().Should().Be("quay.example.com/team");
    }

    [Fact]
    public void A_short_name_lists_its_candidates()
    {
        var result = Explain("alpine");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("note        no tag or digest: \":latest\" is implied")
            .And.Contain("short name  alpine: short-name-mode permissive (default)")
            .And.Contain("search registries: registry.example.com, docker.io (etc/containers/registries.conf)")
            .And.Contain("reference   registry.example.com/alpine:latest  (by tag)")
            .And.Contain("reference   docker.io/library/alpine:latest  (by tag)");
    }

    [Fact]
    public void A_missing_policy_json_is_explained_not_an_error()
    {
        File.Delete(_root.File("etc/containers/policy.json"));
        var result = Explain("quay.io/a/b:1");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("policy      no etc/containers/policy.json: containers/image refuses to pull without a policy");
    }

    [Fact]
    public void An_empty_root_means_no_configuration()
    {
        using var empty = new TempRoot("explain-empty");
        var result = NodeAgentProcess.Run(["explain", "quay.io/a/b:1", "--root", empty.Path]);
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("read        nothing").And.Contain("no [[registry]] entry matches: pulled from its own registry");
    }

    [Theory]
    [InlineData("[[registry]]\nlocation = \"quay.io\"\n[[registry.mirror]]\nlocation = \"m.example.com\"\npull-from-mirror = \"sometimes\"\n",
        "error: loading registries configuration \"etc/containers/registries.conf\": line 5: unsupported pull-from-mirror value \"sometimes\" for mirror \"m.example.com\"")]
    [InlineData("[[registry]\n", "error: loading registries configuration \"etc/containers/registries.conf\": toml: line 1: expected end of table array name delimiter ']]'")]
    [InlineData("[[registry]]\nlocation = \"https://quay.io\"\n", "line 2: invalid location 'https://quay.io': URI schemes are not supported")]
    public void An_invalid_registries_conf_exits_2_naming_file_line_and_value(string conf, string message)
    {
        _root.Write("etc/containers/registries.conf", conf);
        var result = Explain("quay.io/a/b:1");
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().StartWith("error: ").And.Contain(message);
    }

    [Fact]
    public void An_invalid_drop_in_is_named()
    {
        _root.Write("etc/containers/registries.conf.d/50-site.conf", "short-name-mode = \"prompt\"\n");
        var result = Explain("quay.io/a/b:1");
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stderr.Should().Be("error: loading registries configuration \"etc/containers/registries.conf.d/50-site.conf\": line 1: invalid short-name mode: \"prompt\" (valid: enforcing, permissive, disabled)\n");
    }

    [Fact]
    public void An_invalid_policy_json_exits_2()
    {
        _root.Write("etc/containers/policy.json", "{\"default\": [}\n");
        var result = Explain("quay.io/a/b:1");
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stderr.Should().StartWith("error: invalid policy in \"etc/containers/policy.json\": line 1:");
    }

    [Fact]
    public void Warnings_go_to_stderr_and_do_not_change_the_exit_code()
    {
        _root.Write("etc/containers/registries.conf.d/60-typo.conf", "[[registry]]\nlocation = \"quay.io\"\nmirror-by-digest = true\n");
        var result = Explain("quay.io/a/b:1");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().Be("warning: etc/containers/registries.conf.d/60-typo.conf: line 3: registry.mirror-by-digest: not a key containers/image reads; it is ignored (a typo?)\n");
        result.Stdout.Should().NotContain("warning");
    }

    [Fact]
    public void A_symlinked_registries_conf_is_not_followed()
    {
        var outside = _root.Write("outside/registries.conf", "");
        File.Delete(_root.File("etc/containers/registries.conf"));
        File.CreateSymbolicLink(_root.File("etc/containers/registries.conf"), outside);
        var result = Explain("quay.io/a/b:1");
        result.ExitCode.Should().Be(1, result.ToString());
        result.Stderr.Should().StartWith("error: reading below ").And.Contain("is a symbolic link");
    }

    [Theory]
    [InlineData(new[] { "explain" }, "explain needs an IMAGE")]
    [InlineData(new[] { "explain", "a/b", "c/d" }, "explain takes one IMAGE; \"c/d\" is a second one")]
    [InlineData(new[] { "explain", "Quay.io/A" }, "error: invalid image reference \"Quay.io/A\": invalid reference format: repository name must be lowercase")]
    [InlineData(new[] { "explain", "quay.io/a", "--output", "yaml" }, "--output: \"yaml\" is not an output format; use text or json")]
    [InlineData(new[] { "explain", "quay.io/a", "--once" }, "explain does not take --once")]
    [InlineData(new[] { "explain", "quay.io/a", "--kubeconfig", "k" }, "explain does not take --kubeconfig")]
    [InlineData(new[] { "--once", "--manifests", "x", "--probe" }, "--probe works with explain")]
    [InlineData(new[] { "--once", "--manifests", "x", "--output", "json" }, "--output json works with explain, status and --once --dry-run")]
    [InlineData(new[] { "--once", "--output=xml" }, "--output: \"xml\" is not an output format")]
    public void Bad_usage_exits_2(string[] args, string message)
    {
        var result = NodeAgentProcess.Run(args);
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().StartWith("error: ").And.Contain(message);
    }

    [Fact]
    public void Output_text_is_accepted_by_every_mode()
    {
        using var root = new TempRoot("explain-output-text");
        var result = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", root.Path, "--reload-command", "", "--output", "text"]);
        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public void Help_documents_explain()
    {
        var result = NodeAgentProcess.Run(["--help"]);
        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("node-agent explain IMAGE [--root DIR] [--probe] [--output text|json]")
            .And.Contain("--probe").And.Contain("--output FORMAT");
        NodeAgentProcess.Run(["explain", "--help"]).Stdout.Should().Be(result.Stdout, "explain --help prints the same help");
    }
}
