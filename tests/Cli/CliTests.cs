using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>The command line as a user runs it: modes, output streams, exit codes, dry run, reload and rollback.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempRoot _work = new("cli");

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    private string ManifestsDir(params (string Name, string Yaml)[] files)
    {
        var dir = _work.File("manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var (name, yaml) in files)
        {
            File.WriteAllText(Path.Join(dir, name), yaml);
        }
        return dir;
    }

    private static ProcessResult Once(string manifests, string root, params string[] extra) =>
        NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", root, .. extra]);

    [Fact]
    public void Help_goes_to_stdout_and_names_every_option()
    {
        var result = NodeAgentProcess.Run(["--help"]);
        result.ExitCode.Should().Be(0);
        result.Stderr.Should().BeEmpty();
        foreach (var option in new[] { "--once", "--manifests", "--root", "--release-image", "--reload-command", "--health-command", "--dry-run", "--config", "--kubeconfig", "--listen", "--node-name" })
        {
            result.Stdout.Should().Contain(option);
        }
    }

    [Fact]
    public void Version_goes_to_stdout()
    {
        var result = NodeAgentProcess.Run(["--version"]);
        result.ExitCode.Should().Be(0);
        result.Stdout.Should().MatchRegex("^node-agent [0-9]+\\.[0-9]+\\.[0-9]+\n$");
    }

    [Theory]
    [InlineData(new[] { "--bogus" }, "unknown option")]
    [InlineData(new[] { "--once", "--manifests" }, "--manifests needs a value")]
    [InlineData(new[] { "--dry-run" }, "--dry-run works with --once")]
    [InlineData(new[] { "--manifests", "x" }, "--manifests works with --once")]
    [InlineData(new[] { "--once", "--once=yes", "--manifests", "x" }, "--once takes no value")]
    public void Bad_usage_exits_2_with_an_error_line(string[] args, string message)
    {
        var result = NodeAgentProcess.Run(args);
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().StartWith("error: ").And.Contain(message);
    }

    [Fact]
    public void Examples_render_and_a_second_run_writes_nothing()
    {
        var first = Once(RepoPaths.Examples, Root, "--reload-command", "");
        first.ExitCode.Should().Be(0, first.ToString());
        first.Stdout.Should().BeEmpty("stdout carries only what a command produces");
        File.Exists(Path.Join(Root, "etc/containers/registries.conf")).Should().BeTrue();
        var times = Directory.EnumerateFiles(Path.Join(Root, "etc"), "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var snapshot = DirectorySnapshot.Of(Root);

        var second = Once(RepoPaths.Examples, Root, "--reload-command", "");
        second.ExitCode.Should().Be(0, second.ToString());
        second.Stderr.Should().Contain("nothing written");
        DirectorySnapshot.Of(Root).Should().Equal(snapshot);
        foreach (var (file, time) in times)
        {
            File.GetLastWriteTimeUtc(file).Should().Be(time, $"{file} must not be rewritten");
        }
    }

    [Fact]
    public void Dry_run_prints_a_diff_and_writes_nothing()
    {
        Directory.CreateDirectory(Path.Join(Root, "etc/containers"));
        File.WriteAllText(Path.Join(Root, "etc/containers/registries.conf"), "unqualified-search-registries = ['registry.access.redhat.com', 'docker.io']\n");
        var before = DirectorySnapshot.Of(Root);

        var result = Once(RepoPaths.Examples, Root, "--dry-run");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("--- a/etc/containers/registries.conf\n+++ b/etc/containers/registries.conf\n");
        result.Stdout.Should().Contain("--- /dev/null\n+++ b/etc/containers/policy.json\n");
        result.Stdout.Should().Contain("--- /dev/null\n+++ b/etc/containers/registries.conf.d/01-image-searchRegistries.conf\n");
        result.Stdout.Should().Contain("-unqualified-search-registries = ['registry.access.redhat.com', 'docker.io']\n");
        result.Stdout.Should().Contain("+  location = \"quay.io/openshift-release-dev/ocp-release\"\n");
        DirectorySnapshot.Of(Root).Should().Equal(before, "a dry run writes nothing, not even node-agent's state");
    }

    [Fact]
    public void Dry_run_after_apply_prints_nothing_and_shows_a_removal()
    {
        Once(RepoPaths.Examples, Root, "--reload-command", "").ExitCode.Should().Be(0);
        Once(RepoPaths.Examples, Root, "--dry-run").Stdout.Should().BeEmpty("nothing would change");

        var withoutSearch = ManifestsDir(("image.yaml", Manifests.Image("insecureRegistries: [lab.example:5000]")));
        var result = Once(withoutSearch, Root, "--dry-run");
        result.Stdout.Should().Contain("--- a/etc/containers/registries.conf.d/01-image-searchRegistries.conf\n+++ /dev/null\n");
    }

    [Fact]
    public void Invalid_input_exits_2_and_touches_nothing()
    {
        Once(RepoPaths.Examples, Root, "--reload-command", "").ExitCode.Should().Be(0);
        var before = DirectorySnapshot.Of(Root);
        var bad = ManifestsDir(("idms.yaml", Manifests.Idms("dev-mirrors", "- source: quay.io/ok\n  mirrors: [m.example.com]\n- source: quay.io/x\n  mirrors: [\"*.x/y\"]")));

        var result = Once(bad, Root, "--reload-command", "");
        result.ExitCode.Should().Be(2);
        // The renderer's problem names the file and the line of the mirror, as the loader's do.
        result.StderrLines.Should().Contain($"error: {bad}/idms.yaml:10: ImageDigestMirrorSet/dev-mirrors: spec.imageDigestMirrors[1].mirrors[0]: invalid format for mirror \"*.x/y\"");
        DirectorySnapshot.Of(Root).Should().Equal(before);
    }

    [Fact]
    public void Invalid_input_into_a_fresh_root_creates_nothing()
    {
        var bad = ManifestsDir(("image.yaml", Manifests.Image("insecureRegistries: [\"*.bad/path\"]")));
        var result = Once(bad, Root, "--reload-command", "");
        result.ExitCode.Should().Be(2);
        result.StderrLines.Should().Contain($"error: {bad}/image.yaml:7: Image/cluster: spec.registrySources.insecureRegistries[0]: invalid entry for insecure registries \"*.bad/path\"");
        Directory.Exists(Root).Should().BeFalse("not even the root directory is created");
    }

    [Fact]
    public void Warnings_do_not_change_the_exit_code()
    {
        var manifests = ManifestsDir(("idms.yaml", Manifests.Idms("no-mirrors", "- source: quay.io/x\n  mirrorSourcePolicy: NeverContactSource")));
        var result = Once(manifests, Root, "--reload-command", "");
        result.ExitCode.Should().Be(0);
        result.StderrLines.Should().Contain(l => l.StartsWith($"warning: {manifests}/idms.yaml:8: ImageDigestMirrorSet/no-mirrors: spec.imageDigestMirrors[0].mirrorSourcePolicy:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_reload_runs_after_a_change_and_not_when_nothing_changed()
    {
        var marker = _work.File("reloads");
        var reload = $"echo reload >> {marker}";
        Once(RepoPaths.Examples, Root, "--reload-command", reload).ExitCode.Should().Be(0);
        Once(RepoPaths.Examples, Root, "--reload-command", reload).ExitCode.Should().Be(0);
        File.ReadAllLines(marker).Should().Equal(["reload"], "the second run changed nothing");
    }

    [Fact]
    public void A_failed_reload_rolls_back_to_the_last_good_files_and_exits_1()
    {
        var good = ManifestsDir(("image.yaml", Manifests.Image("insecureRegistries: [good.example:5000]")));
        Once(good, Root, "--reload-command", "true").ExitCode.Should().Be(0);
        var goodFiles = DirectorySnapshot.Of(Path.Join(Root, "etc"));

        var marker = _work.File("attempts");
        var changed = ManifestsDir(("image.yaml", Manifests.Image("insecureRegistries: [other.example:5000]")));
        var result = Once(changed, Root, "--reload-command", $"echo attempt >> {marker}; exit 3");
        result.ExitCode.Should().Be(1, result.ToString());
        result.Stderr.Should().Contain("rolled back");
        DirectorySnapshot.Of(Path.Join(Root, "etc")).Should().Equal(goodFiles);
        File.ReadAllLines(marker).Should().HaveCount(2, "the runtime is reloaded again after the rollback");
    }

    [Fact]
    public void A_failed_health_check_rolls_back()
    {
        var good = ManifestsDir(("image.yaml", Manifests.Image("blockedRegistries: [bad.example]")));
        Once(good, Root, "--reload-command", "true", "--health-command", "true").ExitCode.Should().Be(0);
        var goodFiles = DirectorySnapshot.Of(Path.Join(Root, "etc"));

        var changed = ManifestsDir(("image.yaml", Manifests.Image("blockedRegistries: [worse.example]")));
        var healthy = _work.File("healthy");
        // Unhealthy after the first reload, healthy again after the rollback's reload.
        var result = Once(changed, Root, "--reload-command", $"if [ -e {healthy}.1 ]; then touch {healthy}; else touch {healthy}.1; fi",
            "--health-command", $"test -e {healthy}");
        result.ExitCode.Should().Be(1, result.ToString());
        DirectorySnapshot.Of(Path.Join(Root, "etc")).Should().Equal(goodFiles);
        result.Stderr.Should().NotContain("still unhealthy");
    }

    [Fact]
    public void Settings_layer_command_line_over_environment_over_file()
    {
        var config = _work.Write("config.json", """{ "BaseSearchRegistries": ["file.example"], "ReleaseImage": "file.example/release:1" }""");
        var manifests = ManifestsDir(("image.yaml", Manifests.Image("insecureRegistries: [x.example]")));

        var fromFile = NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", Root, "--reload-command", "", "--config", config]);
        fromFile.ExitCode.Should().Be(0, fromFile.ToString());
        File.ReadAllText(Path.Join(Root, "etc/containers/registries.conf")).Should().StartWith("unqualified-search-registries = [\"file.example\"]\n");

        var fromEnv = NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", Root, "--reload-command", "", "--config", config],
            new Dictionary<string, string> { ["NODEAGENT_BaseSearchRegistries"] = "env.example,env2.example" });
        fromEnv.ExitCode.Should().Be(0, fromEnv.ToString());
        File.ReadAllText(Path.Join(Root, "etc/containers/registries.conf")).Should().StartWith("unqualified-search-registries = [\"env.example\", \"env2.example\"]\n");

        var rootFromCli = _work.File("cli-root");
        var cliWins = NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", rootFromCli, "--reload-command", "", "--config", config],
            new Dictionary<string, string> { ["NODEAGENT_Root"] = _work.File("env-root") });
        cliWins.ExitCode.Should().Be(0, cliWins.ToString());
        Directory.Exists(rootFromCli).Should().BeTrue();
        Directory.Exists(_work.File("env-root")).Should().BeFalse("the command line wins over the environment");
    }

    [Fact]
    public void A_base_policy_keeps_its_other_scopes_and_rendered_scopes_replace_their_own()
    {
        // An RHEL-style base: signature rules for Red Hat registries and a scope node-agent also renders.
        var basePolicy = _work.Write("base-policy.json", """
            {"default":[{"type":"insecureAcceptAnything"}],
             "transports":{
               "docker":{
                 "registry.redhat.io":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/etc/pki/rpm-gpg/RPM-GPG-KEY-redhat-release"}],
                 "blocked.example":[{"type":"insecureAcceptAnything"}]},
               "docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}}
            """);
        var config = _work.Write("config.json", $$"""{ "BasePolicyFile": "{{basePolicy}}" }""");
        var manifests = ManifestsDir(("image.yaml", Manifests.Image("blockedRegistries: [blocked.example]")));

        var result = NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", Root, "--reload-command", "", "--config", config]);
        result.ExitCode.Should().Be(0, result.ToString());
        var policy = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Join(Root, "etc/containers/policy.json")))!;
        policy["transports"]!["docker"]!["registry.redhat.io"]![0]!["type"]!.GetValue<string>().Should().Be("signedBy", "other base scopes are kept");
        policy["transports"]!["docker"]!["blocked.example"]![0]!["type"]!.GetValue<string>().Should().Be("reject", "a rendered scope replaces the base's");
        policy["transports"]!["atomic"]!["blocked.example"]![0]!["type"]!.GetValue<string>().Should().Be("reject");
        policy["transports"]!["docker-daemon"]!.Should().NotBeNull();
    }

    [Fact]
    public void A_base_policy_that_is_not_a_policy_is_invalid_input()
    {
        var basePolicy = _work.Write("base-policy.json", """{"transports": {}}""");
        var result = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root, "--reload-command", ""],
            new Dictionary<string, string> { ["NODEAGENT_BasePolicyFile"] = basePolicy });
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stderr.Should().Contain("a policy must be a JSON object with a \"default\" list");
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public void Bad_settings_exit_2()
    {
        var config = _work.Write("config.json", """{ "BaseSerchRegistries": ["typo.example"] }""");
        var result = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root, "--config", config]);
        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Contain("unknown setting \"BaseSerchRegistries\"");
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public async Task Concurrent_runs_on_one_root_take_turns()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 3)
            .Select(_ => Task.Run(() => Once(RepoPaths.Examples, Root, "--reload-command", ""))));
        foreach (var result in results)
        {
            result.ExitCode.Should().Be(0, result.ToString());
        }
        results.Count(r => r.Stderr.Contains("created etc/containers/registries.conf", StringComparison.Ordinal))
            .Should().Be(1, "one run writes, the others wait for its lock and find nothing to do");
    }

    [Fact]
    public void A_hand_edit_between_two_runs_is_reported_as_drift_and_restored()
    {
        Once(RepoPaths.Examples, Root, "--reload-command", "").ExitCode.Should().Be(0);
        var ours = DirectorySnapshot.Of(Path.Join(Root, "etc"));
        File.AppendAllText(Path.Join(Root, "etc/containers/registries.conf"), "# hand edit\n");
        File.Delete(Path.Join(Root, "etc/docker/certs.d/mirror.corp.example:5000/ca.crt"));
        var edited = DirectorySnapshot.Of(Root);

        var dryRun = Once(RepoPaths.Examples, Root, "--reload-command", "", "--dry-run");
        dryRun.ExitCode.Should().Be(0, dryRun.ToString());
        dryRun.Stderr.Should().Contain("drift: etc/containers/registries.conf was changed by another writer (node-agent cannot tell which) since node-agent wrote it; dry run: it would be restored; nothing is written");
        dryRun.Stdout.Should().Contain("-# hand edit\n");
        DirectorySnapshot.Of(Root).Should().Equal(edited, "a dry run writes nothing");

        var second = Once(RepoPaths.Examples, Root, "--reload-command", "");
        second.ExitCode.Should().Be(0, second.ToString());
        second.Stderr.Should().Contain("warn: node-agent[80] drift: etc/containers/registries.conf was changed by another writer");
        second.Stderr.Should().Contain("restoring node-agent's content now; diff from node-agent's content to the file now: @@ ").And.Contain(@"\n+# hand edit");
        second.Stderr.Should().Contain("drift: etc/docker/certs.d/mirror.corp.example:5000/ca.crt was deleted");
        second.Stderr.Should().Contain("restored etc/containers/registries.conf").And.Contain("restored etc/docker/certs.d/mirror.corp.example:5000/ca.crt");
        DirectorySnapshot.Of(Path.Join(Root, "etc")).Should().Equal(ours);

        var third = Once(RepoPaths.Examples, Root, "--reload-command", "");
        third.Stderr.Should().Contain("nothing written").And.NotContain("drift:");
    }

    [Fact]
    public void Nothing_is_written_outside_the_root()
    {
        var parent = _work.File("parent");
        Directory.CreateDirectory(parent);
        var root = Path.Join(parent, "root");
        var manifestsBefore = DirectorySnapshot.Of(RepoPaths.Examples);
        var workBefore = DirectorySnapshot.Of(_work.Path).Where(e => !e.Key.StartsWith("parent", StringComparison.Ordinal)).ToList();

        Once(RepoPaths.Examples, root, "--reload-command", "").ExitCode.Should().Be(0);

        Directory.EnumerateFileSystemEntries(parent).Should().Equal([root]);
        DirectorySnapshot.Of(RepoPaths.Examples).Should().Equal(manifestsBefore);
        DirectorySnapshot.Of(_work.Path).Where(e => !e.Key.StartsWith("parent", StringComparison.Ordinal)).Should().Equal(workBefore);
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Should().OnlyContain(f => f.StartsWith("etc/containers/", StringComparison.Ordinal) || f.StartsWith("etc/docker/certs.d/", StringComparison.Ordinal)
                || f.StartsWith("var/lib/node-agent/", StringComparison.Ordinal));
    }
}
