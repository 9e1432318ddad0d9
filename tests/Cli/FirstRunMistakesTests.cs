using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// What a new user runs into on a first try, through the built binary: a --root that is a file,
/// an option without its value, a misspelt NODEAGENT_ variable, a --config that is not JSON, a
/// mirror written as a URL, a root they may not write, and log lines that must say what happened.
/// Every mistake is one <c>error:</c> line naming the thing and what to do.
/// </summary>
public sealed partial class FirstRunMistakesTests : IDisposable
{
    private readonly TempRoot _work = new("first-run");

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    private string Objects(string yaml) => _work.Write($"objects-{Guid.NewGuid():N}/objects.yaml", yaml);

    private static ProcessResult Once(string manifests, string root, params string[] extra) =>
        NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", root, "--reload-command", "", .. extra]);

    private static void InvalidInput(ProcessResult result, string line)
    {
        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().Equal([line], result.ToString());
    }

    // ---- --root -----------------------------------------------------------------------------------

    [Fact]
    public void A_root_that_is_a_file_is_invalid_input_naming_it()
    {
        var file = _work.Write("not-a-dir", "x");

        InvalidInput(Once(RepoPaths.Examples, file), $"error: --root {file} is not a directory; give the directory that stands for the host's /");
        InvalidInput(Once(RepoPaths.Examples, Path.Join(file, "below")),
            $"error: --root {file}/below is not a directory: {file} is a file; give the directory that stands for the host's /");
        File.ReadAllText(file).Should().Be("x");
    }

    [Fact]
    public void Explain_and_status_with_a_root_that_does_not_exist_name_it_and_exit_2()
    {
        var missing = _work.File("no-such-root");

        InvalidInput(NodeAgentProcess.Run(["explain", "quay.io/team/app:v1", "--root", missing]),
            $"error: --root {missing} does not exist; give the directory node-agent renders into (default /)");
        InvalidInput(NodeAgentProcess.Run(["status"], new Dictionary<string, string> { ["NODEAGENT_Root"] = missing }),
            $"error: NODEAGENT_Root={missing} does not exist; give the directory node-agent renders into (default /)");
        Directory.Exists(missing).Should().BeFalse();
    }

    // ---- options that take a value ----------------------------------------------------------------

    [Theory]
    [InlineData("--manifests")]
    [InlineData("--config")]
    [InlineData("--output")]
    [InlineData("--root")]
    [InlineData("--kubeconfig")]
    [InlineData("--node-name")]
    [InlineData("--release-image")]
    [InlineData("--reload-command")]
    [InlineData("--health-command")]
    [InlineData("--listen")]
    [InlineData("--log-level")]
    [InlineData("--runtime")]
    public void An_option_followed_by_another_option_needs_a_value(string option)
    {
        var followed = NodeAgentProcess.Run(["--once", option, "--dry-run", Root]);
        InvalidInput(followed, $"error: {option} needs a value, but --dry-run follows it; see node-agent --help (a value starting with -- is written {option}=VALUE)");

        var last = NodeAgentProcess.Run(["--once", option]);
        InvalidInput(last, $"error: {option} needs a value; see node-agent --help");
    }

    [Fact]
    public void Manifests_followed_by_root_says_manifests_needs_a_value_not_unknown_option()
    {
        var result = NodeAgentProcess.Run(["--once", "--manifests", "--root", Root]);

        InvalidInput(result, $"error: --manifests needs a value, but --root follows it; see node-agent --help (a value starting with -- is written --manifests=VALUE)");
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public void A_value_that_starts_with_two_dashes_is_given_with_equals()
    {
        var result = Once(RepoPaths.Examples, Root, "--dry-run", "--node-name=--odd");

        result.ExitCode.Should().Be(0, result.ToString());
    }

    // ---- NODEAGENT_ variables ----------------------------------------------------------------------

    [Fact]
    public void An_environment_variable_that_is_not_a_setting_is_invalid_input_with_a_did_you_mean()
    {
        var typo = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root],
            new Dictionary<string, string> { ["NODEAGENT_Runtim"] = "containerd" });
        InvalidInput(typo, "error: environment variable NODEAGENT_Runtim is not a setting; did you mean NODEAGENT_Runtime?");

        var caseAndLetters = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root],
            new Dictionary<string, string> { ["NODEAGENT_BACKOFFCAPSECOND"] = "3" });
        InvalidInput(caseAndLetters, "error: environment variable NODEAGENT_BACKOFFCAPSECOND is not a setting; did you mean NODEAGENT_BackoffCapSeconds?");

        var far = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root],
            new Dictionary<string, string> { ["NODEAGENT_Colour"] = "blue" });
        far.ExitCode.Should().Be(2, far.ToString());
        far.StderrLines.Should().ContainSingle().Which.Should()
            .StartWith("error: environment variable NODEAGENT_Colour is not a setting; settings: Root, Kubeconfig,")
            .And.NotContain("did you mean");
        Directory.Exists(Root).Should().BeFalse("exit 2 creates nothing below --root");
    }

    [Fact]
    public void A_setting_in_another_case_is_still_that_setting()
    {
        var result = Once(RepoPaths.Examples, Root, "--dry-run");
        var upper = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root, "--reload-command", "", "--dry-run"],
            new Dictionary<string, string> { ["NODEAGENT_RUNTIME"] = "crio" });

        upper.ExitCode.Should().Be(0, upper.ToString());
        upper.Stdout.Should().Be(result.Stdout);
    }

    /// <summary>The unit, the RPM's sysconfig, the container deployment and the tests' own runs set only real settings.</summary>
    [Fact]
    public void Packaging_and_tests_set_no_NODEAGENT_variable_that_is_not_a_setting()
    {
        var settings = NodeAgent.Configuration.OptionsLoader.SettingNames;
        var found = new List<string>();
        foreach (var tree in new[] { "systemd", "rpm", "deploy", "tests", "bench" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Join(RepoPaths.Root, tree), "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/testdata/", StringComparison.Ordinal)))
            {
                foreach (Match match in EnvironmentSetting().Matches(File.ReadAllText(file)))
                {
                    found.Add($"{Path.GetRelativePath(RepoPaths.Root, file)}: {match.Value}");
                }
            }
        }
        found.Should().NotBeEmpty("the tests set settings through the environment");
        var deliberate = new[] { "NODEAGENT_Runtim", "NODEAGENT_BACKOFFCAPSECOND", "NODEAGENT_Colour" };
        found.Where(f => f.Split(": ")[1]["NODEAGENT_".Length..] is var name && !settings.Contains(name, StringComparer.OrdinalIgnoreCase))
            .Where(f => !(f.StartsWith("tests/Cli/FirstRunMistakesTests.cs", StringComparison.Ordinal) && deliberate.Contains(f.Split(": ")[1])))
            .Should().BeEmpty("every NODEAGENT_ variable set must be a setting, or node-agent refuses to start");
    }

    // A variable as it is set: a quoted name (a test's environment), NAME= (sysconfig, shell), or a
    // YAML "name: NAME" at the end of its line.
    [GeneratedRegex(@"NODEAGENT_[A-Za-z][A-Za-z0-9]*(?=[""=]|\r?$)", RegexOptions.Multiline)]
    private static partial Regex EnvironmentSetting();

    // ---- --config JSON ------------------------------------------------------------------------------

    [Theory]
    [InlineData("{\"Root\": \"/x\",\n}\n", 1, "a trailing comma after the last property")]
    [InlineData("{\n  \"CertsTargets\": [\"/etc/docker/certs.d\",\n  ]\n}\n", 2, "a trailing comma after the last element of a list")]
    [InlineData("{\n  \"LogLevel\": \"Debug\"\n  \"Runtime\": \"crio\"\n}\n", 3, "'\"' after a value, where ',' or a closing '}' or ']' belongs (a comma missing?)")]
    [InlineData("{\n  // settings\n  \"LogLevel\": \"Debug\"\n}\n", 2, "'/' outside a string: JSON has no comments, and a string needs double quotes")]
    [InlineData("{'LogLevel': 'Debug'}", 1, "a single quote outside a string: JSON strings use double quotes")]
    [InlineData("{\"ReportStatus\": True}", 1, "'T' where a value belongs: true, false and null are lower case, and a string needs double quotes")]
    [InlineData("{\"LogLevel\": \"Debug\"", 1, "the file ends inside an object or a list: a '}' or ']' is missing")]
    [InlineData("", 1, "no JSON value: the file is empty")]
    public void A_config_that_is_not_json_names_the_file_the_line_and_a_plain_reason(string json, int line, string reason)
    {
        var config = _work.Write("config.json", json);

        var result = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root, "--config", config]);

        InvalidInput(result, $"error: {config}:{line}: invalid JSON: {reason}");
        result.Stderr.Should().NotContain("LineNumber").And.NotContain("reader options").And.NotContain("BytePositionInLine");
        Directory.Exists(Root).Should().BeFalse();
    }

    // ---- mirror sets ---------------------------------------------------------------------------------

    [Fact]
    public void A_url_or_an_image_reference_where_a_repository_belongs_says_what_to_write()
    {
        var objects = Objects(string.Join("\n---\n",
            Manifests.Idms("urls", "- source: https://quay.io/team\n  mirrors: [\"https://mirror.example/team\", \"mirror.example/team:v1\"]\n- source: quay.io/team/app@sha256:0123\n  mirrors: [\"mirror.example/app\"]"),
            Manifests.Itms("tags", "- source: quay.io/team/tool:latest\n  mirrors: [\"mirror.example/tool\"]"),
            Manifests.Icsp("legacy", "- source: http://registry.example:5000/legacy\n  mirrors: [\"mirror.example/legacy\"]")));

        var result = Once(objects, Root);

        result.ExitCode.Should().Be(2, result.ToString());
        // Each names the line of the value in the one file of three documents.
        var file = objects;
        result.StderrLines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).Should().BeEquivalentTo(
            $"error: {file}:27 (document 3): ImageContentSourcePolicy/legacy: spec.repositoryDigestMirrors[0].source: invalid format for source \"http://registry.example:5000/legacy\": no scheme: write host[:port]/path",
            $"error: {file}:7 (document 1): ImageDigestMirrorSet/urls: spec.imageDigestMirrors[0].source: invalid format for source \"https://quay.io/team\": no scheme: write host[:port]/path",
            $"error: {file}:8 (document 1): ImageDigestMirrorSet/urls: spec.imageDigestMirrors[0].mirrors[0]: invalid format for mirror \"https://mirror.example/team\": no scheme: write host[:port]/path",
            $"error: {file}:8 (document 1): ImageDigestMirrorSet/urls: spec.imageDigestMirrors[0].mirrors[1]: invalid format for mirror \"mirror.example/team:v1\": a mirror names a repository, without a tag or digest",
            $"error: {file}:9 (document 1): ImageDigestMirrorSet/urls: spec.imageDigestMirrors[1].source: invalid format for source \"quay.io/team/app@sha256:0123\": a source names a repository, without a tag or digest",
            $"error: {file}:18 (document 2): ImageTagMirrorSet/tags: spec.imageTagMirrors[0].source: invalid format for source \"quay.io/team/tool:latest\": a source names a repository, without a tag or digest");
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public void A_host_with_a_port_is_no_tag()
    {
        var result = Once(Objects(Manifests.Idms("ported", "- source: registry.example:5000/team\n  mirrors: [\"mirror.example:5000\"]")), Root);

        result.ExitCode.Should().Be(0, result.ToString());
    }

    // ---- a root this user may not write ------------------------------------------------------------------

    [Fact]
    public void A_root_this_user_may_not_write_is_one_error_line_with_the_path_and_what_to_do()
    {
        var locked = Directory.CreateDirectory(_work.File("locked")).FullName;
        Unprivileged.OpenToEveryone(_work.Path, locked);
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var root = Path.Join(locked, "root");

        var result = Unprivileged.Run(["--once", "--manifests", RepoPaths.Examples, "--root", root, "--reload-command", ""]);

        result.ExitCode.Should().Be(1, result.ToString());
        result.StderrLines.Where(l => !l.StartsWith("info: ", StringComparison.Ordinal)).Should().Equal(
            [$"error: node: cannot create the directory {root}: permission denied; run node-agent as root, or give a --root this user can write"],
            result.ToString());
        Directory.Exists(root).Should().BeFalse();
    }

    // ---- the dry run's reload line -----------------------------------------------------------------------

    [Fact]
    public void A_dry_run_with_reloads_disabled_says_the_reload_is_needed_but_disabled()
    {
        var objects = Objects(Manifests.Idms("one", "- source: quay.io/team\n  mirrors: [\"mirror.example/team\"]"));

        var disabled = Once(objects, Root, "--dry-run");
        var json = Once(objects, Root, "--dry-run", "--output", "json");
        var configured = NodeAgentProcess.Run(["--once", "--manifests", objects, "--root", Root, "--dry-run", "--reload-command", "true"]);

        disabled.ExitCode.Should().Be(0, disabled.ToString());
        disabled.StderrLines.Should().Contain("  CRI-O reload: needed (registries.conf changed), but disabled (--reload-command '')");
        var reload = JsonNode.Parse(json.Stdout)!["reload"]!;
        reload["needed"]!.GetValue<bool>().Should().BeTrue();
        reload["disabled"]!.GetValue<bool>().Should().BeTrue();
        configured.StderrLines.Should().Contain("  CRI-O reload: yes (registries.conf changed)");
        Directory.Exists(Root).Should().BeFalse("a dry run writes nothing");
    }

    // ---- log wording ---------------------------------------------------------------------------------------

    [Fact]
    public void The_log_counts_every_kind_read_with_the_right_noun_and_says_what_the_runtime_gets()
    {
        var one = Objects(Manifests.Idms("one", "- source: quay.io/team\n  mirrors: [\"mirror.example/team\"]"));

        var single = Once(one, Root);
        var examples = Once(RepoPaths.Examples, _work.File("examples-root"));
        var containerd = Once(one, _work.File("containerd-root"), "--runtime", "containerd");

        single.StderrLines.Should().Contain(l => l.EndsWith($"] read 1 object from {one}: 1 ImageDigestMirrorSet, 0 ImageTagMirrorSet, 0 ImageContentSourcePolicy, 0 ConfigMap, Image/cluster absent, ClusterVersion/version absent", StringComparison.Ordinal), single.ToString());
        single.StderrLines.Should().Contain(l => Regex.IsMatch(l, @"\] rendered 1 registry entry in [0-9.]+ ms; search drop-in absent$"), single.ToString());
        examples.StderrLines.Should().Contain(l => l.EndsWith($"] read 7 objects from {RepoPaths.Examples}: 1 ImageDigestMirrorSet, 1 ImageTagMirrorSet, 2 ImageContentSourcePolicy, 1 ConfigMap, Image/cluster present, ClusterVersion/version present", StringComparison.Ordinal), examples.ToString());
        containerd.StderrLines.Should().Contain(l => Regex.IsMatch(l, @"\] rendered 1 registry entry in [0-9.]+ ms; for containerd: hosts.toml only \(no registries.conf, policy.json or search drop-in\)$"), containerd.ToString());
        containerd.Stderr.Should().NotContain("search drop-in present").And.NotContain("search drop-in absent");
    }

    [Fact]
    public void A_removed_file_is_logged_with_the_size_it_had()
    {
        var withSearch = Objects(Manifests.Image("containerRuntimeSearchRegistries: [\"search.example\"]"));
        var withoutSearch = Objects(Manifests.Image("insecureRegistries: [\"insecure.example\"]"));
        Once(withSearch, Root).ExitCode.Should().Be(0);
        var size = new FileInfo(Path.Join(Root, "etc/containers/registries.conf.d/01-image-searchRegistries.conf")).Length;

        var result = Once(withoutSearch, Root);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StderrLines.Should().Contain(l => l.EndsWith($"] removed etc/containers/registries.conf.d/01-image-searchRegistries.conf ({size} bytes)", StringComparison.Ordinal), result.ToString());
        size.Should().BeGreaterThan(0);
    }
}
