using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Impact;

/// <summary>
/// <c>--once --dry-run</c> with the built binary on a node that already has a rendered state: for
/// each kind of change in node-apply.md's table, the impact summary on stderr says what happens
/// to pulls, whether CRI-O reloads, and what MCO would have done; stdout stays the bare diff.
/// </summary>
public sealed class DryRunImpactTests : IDisposable
{
    private const string Release = "quay.io/openshift-release-dev/ocp-release";

    private static readonly string BaseImage = Manifests.Image("""
        insecureRegistries: [lab.example:5000]
        blockedRegistries: [blocked.example]
        """);

    private static readonly string BaseIdms = Manifests.Idms("release", $"""
        - source: {Release}
          mirrors: [m1.example/release, m2.example/release]
        """);

    private readonly TempRoot _work = new("node-agent-impact");

    public DryRunImpactTests()
    {
        var applied = Once(Dir("base", Base()));
        applied.ExitCode.Should().Be(0, applied.ToString());
    }

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    [Fact]
    public void Nothing_to_change_says_so_and_prints_no_diff()
    {
        var result = DryRun(Base());

        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().Contain("impact: nothing changes on this node\n");
    }

    [Fact]
    public void Creating_an_idms_reloads_without_a_drain()
    {
        var result = DryRun(Base(("new.yaml", Manifests.Idms("new", """
            - source: registry.example/new
              mirrors: [m4.example/new]
            """))));

        Impact(result).Should().ContainInOrder(
            "  registry registry.example/new:",
            "    new entry: 1 mirror(s)",
            "    digest pulls: registry.example/new",
            "                  → m4.example/new, registry.example/new",
            "    tag pulls: unchanged, registry.example/new",
            "  CRI-O reload: needed (registries.conf changed), but disabled (--reload-command '')");
        Mco(result).Should().StartWith("reloaded CRI-O without a drain");
        result.Stdout.Should().StartWith("--- a/etc/containers/registries.conf\n", "stdout is the diff alone");
    }

    [Fact]
    public void Creating_an_itms_drains_because_its_mirrors_serve_tags()
    {
        var result = DryRun(Base(("tags.yaml", Manifests.Itms("tags", """
            - source: registry.example/tools
              mirrors: [m5.example/tools]
            """))));

        Impact(result).Should().Contain("    tag pulls: registry.example/tools");
        Mco(result).Should().Be("cordoned and drained the node, then reloaded CRI-O (registry registry.example/tools was added with a mirror that does not set pull-from-mirror = digest-only)");
    }

    [Fact]
    public void Deleting_an_icsp_drains_and_sends_pulls_back_to_the_source()
    {
        var result = DryRun([("image.yaml", BaseImage), ("idms.yaml", BaseIdms)]);

        Impact(result).Should().ContainInOrder(
            "  registry registry.example/legacy:",
            "    entry removed: 1 mirror(s)",
            "    digest pulls: m3.example/legacy, registry.example/legacy",
            "                  → registry.example/legacy");
        Mco(result).Should().Be("cordoned and drained the node, then reloaded CRI-O (registry registry.example/legacy was removed)");
    }

    [Fact]
    public void Reordering_mirrors_reloads_without_a_drain()
    {
        var result = DryRun(Base(("idms.yaml", Manifests.Idms("release", $"""
            - source: {Release}
              mirrors: [m2.example/release, m1.example/release]
            """))));

        Impact(result).Should().Contain("    mirrors reordered: m2.example/release, m1.example/release");
        Mco(result).Should().StartWith("reloaded CRI-O without a drain");
    }

    [Fact]
    public void A_new_insecure_registry_is_named_and_drains()
    {
        var result = DryRun(Base(("image.yaml", Manifests.Image("""
            insecureRegistries: [lab.example:5000, other.example]
            blockedRegistries: [blocked.example]
            """))));

        Impact(result).Should().ContainInOrder("  registry other.example:", "    new entry: insecure");
        Mco(result).Should().StartWith("cordoned and drained the node, then reloaded CRI-O");
    }

    [Fact]
    public void Blocking_a_mirrored_source_leaves_only_its_mirrors()
    {
        var result = DryRun(Base(("image.yaml", Manifests.Image($"""
            insecureRegistries: [lab.example:5000]
            blockedRegistries: [blocked.example, {Release}]
            """))));

        Impact(result).Should().ContainInOrder(
            $"  registry {Release}:",
            $"    newly blocked: {Release}",
            $"    digest pulls: m1.example/release, m2.example/release, {Release}",
            "                  → m1.example/release, m2.example/release (source blocked)");
        Impact(result).Should().Contain(line => line.StartsWith("  policy.json docker ", StringComparison.Ordinal) && line.EndsWith("→ rejected", StringComparison.Ordinal));
        Mco(result).Should().Be($"cordoned and drained the node, then reloaded CRI-O (registry {Release}: blocked changed from false to true)");
    }

    [Fact]
    public void Allowed_registries_show_as_policy_verdicts()
    {
        var result = DryRun(Base(("image.yaml", Manifests.Image("""
            insecureRegistries: [lab.example:5000]
            allowedRegistries: [quay.io, lab.example:5000]
            """))));

        Impact(result).Should().Contain("  policy.json default: accepted → rejected");
        Impact(result).Should().Contain("  policy.json docker quay.io: not set (a broader scope decides) → accepted");
        Impact(result).Should().Contain("  CRI-O reload: needed (registries.conf changed), but disabled (--reload-command '')");
    }

    [Fact]
    public void A_change_of_policy_json_alone_needs_no_reload()
    {
        var allowed = Base(("image.yaml", Manifests.Image("""
            insecureRegistries: [lab.example:5000]
            allowedRegistries: [quay.io, lab.example:5000]
            """)));
        Once(Dir("allowed", allowed)).ExitCode.Should().Be(0);

        // Another allowed registry changes policy.json only: CRI-O reads it on every pull.
        var result = DryRun(Base(("image.yaml", Manifests.Image("""
            insecureRegistries: [lab.example:5000]
            allowedRegistries: [quay.io, lab.example:5000, ghcr.io]
            """))));

        Impact(result).Should().Contain("  files: etc/containers/policy.json (updated)");
        Impact(result).Should().Contain("  CRI-O reload: no (policy.json is read on every pull)");
    }

    [Fact]
    public void Search_registries_change_the_short_name_order_and_MCO_would_reboot()
    {
        var result = DryRun(Base(("image.yaml", Manifests.Image("""
            insecureRegistries: [lab.example:5000]
            blockedRegistries: [blocked.example]
            containerRuntimeSearchRegistries: [lab.example:5000]
            """))));

        Impact(result).Should().Contain("  short-name search: registry.access.redhat.com, docker.io → lab.example:5000");
        Impact(result).Should().Contain("  CRI-O reload: needed (01-image-searchRegistries.conf changed), but disabled (--reload-command '')");
        Mco(result).Should().StartWith("cordoned, drained and rebooted the node (the search-registries drop-in changed");
    }

    [Fact]
    public void A_ca_change_needs_no_reload_and_no_MCO_action()
    {
        var image = Manifests.Image("""
            insecureRegistries: [lab.example:5000]
            blockedRegistries: [blocked.example]
            """).Replace("spec:\n", "spec:\n  additionalTrustedCA:\n    name: cas\n", StringComparison.Ordinal);
        var ca = ThrowawayCa.Create("impact test CA");
        var configMap = $"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: cas
              namespace: openshift-config
            data:
              mirror.example..5000: |
            {string.Join('\n', ca.Pem.TrimEnd().Split('\n').Select(l => "    " + l))}
            """;

        var result = DryRun(Base(("image.yaml", image), ("cas.yaml", configMap)));

        Impact(result).Should().Contain("  trust for mirror.example:5000: CA file created (used from the next pull; no reload)");
        Impact(result).Should().Contain("  CRI-O reload: no");
        Mco(result).Should().Be("done nothing (no file MCO manages changed)");
    }

    [Fact]
    public void Json_output_carries_the_same_diff_and_the_impact_as_one_document()
    {
        var files = Base(("tags.yaml", Manifests.Itms("tags", """
            - source: registry.example/tools
              mirrors: [m5.example/tools]
            """)));
        var text = DryRun(files);

        var result = DryRun(files, "--output", "json");

        var document = JsonNode.Parse(result.Stdout)!.AsObject();
        string.Concat(document["files"]!.AsArray().Select(f => f!["diff"]!.GetValue<string>())).Should().Be(text.Stdout);
        document["files"]![0]!["change"]!.GetValue<string>().Should().Be("updated");
        var scope = document["scopes"]!.AsArray().Single()!;
        scope["scope"]!.GetValue<string>().Should().Be("registry.example/tools");
        scope["changes"]![0]!["kind"]!.GetValue<string>().Should().Be("entry-added");
        scope["tagPulls"]!["after"]!.AsArray().Select(e => e!.GetValue<string>()).Should().Equal("m5.example/tools", "registry.example/tools");
        document["reload"]!["needed"]!.GetValue<bool>().Should().BeTrue();
        document["mco"]!["action"]!.GetValue<string>().Should().Be("drain-and-reload");
        result.Stderr.Should().NotContain("impact", "the JSON document is the whole report");
    }

    [Theory]
    [InlineData("--once")]
    [InlineData("--dry-run")]
    public void Json_output_needs_a_dry_run_or_explain(string mode)
    {
        var result = NodeAgentProcess.Run(["--output", "json", mode, "--manifests", RepoPaths.Examples]);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Stderr.Should().Contain("--output json works with explain, status and --once --dry-run");
    }

    private static (string Name, string Yaml)[] Base(params (string Name, string Yaml)[] overrides)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["image.yaml"] = BaseImage,
            ["idms.yaml"] = BaseIdms,
            ["icsp.yaml"] = Manifests.Icsp("old", """
                - source: registry.example/legacy
                  mirrors: [m3.example/legacy]
                """),
        };
        foreach (var (name, yaml) in overrides)
        {
            files[name] = yaml;
        }
        return [.. files.Select(f => (f.Key, f.Value))];
    }

    private ProcessResult DryRun((string Name, string Yaml)[] files, params string[] extra)
    {
        var before = DirectorySnapshot.Of(Root);
        var result = Once(Dir(Guid.NewGuid().ToString("N"), files), ["--dry-run", .. extra]);
        result.ExitCode.Should().Be(0, result.ToString());
        DirectorySnapshot.Of(Root).Should().Equal(before, "a dry run writes nothing");
        return result;
    }

    private static List<string> Impact(ProcessResult result) =>
        result.Stderr.Split('\n').SkipWhile(l => !l.StartsWith("impact", StringComparison.Ordinal)).TakeWhile(l => l.Length > 0).ToList();

    private static string Mco(ProcessResult result) =>
        Impact(result).Single(l => l.StartsWith("  MCO would have: ", StringComparison.Ordinal))["  MCO would have: ".Length..];

    private ProcessResult Once(string manifests, params string[] extra) =>
        NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", Root, "--reload-command", "", "--log-level", "Warning", .. extra]);

    private string Dir(string name, params (string Name, string Yaml)[] files)
    {
        foreach (var (file, yaml) in files)
        {
            _work.Write(Path.Join(name, file), yaml);
        }
        return _work.File(name);
    }
}
