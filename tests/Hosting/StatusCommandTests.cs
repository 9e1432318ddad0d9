using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary><c>node-agent status</c> through the built binary on a root a real <c>--once</c> wrote.</summary>
public sealed class StatusCommandTests : IDisposable
{
    private readonly TempRoot _work = new("node-agent-status");

    private string Root => _work.File("root");

    public void Dispose() => _work.Dispose();

    private ProcessResult Status(params string[] extra) => NodeAgentProcess.Run(["status", "--root", Root, .. extra]);

    private void Apply(params string[] extra)
    {
        var run = NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root, "--reload-command", "true", .. extra]);
        run.ExitCode.Should().Be(0, run.ToString());
    }

    [Fact]
    public void Shows_the_last_pass_the_files_the_reload_and_ca_expiry()
    {
        Apply();

        var result = Status();

        result.ExitCode.Should().Be(0, result.ToString());
        var lines = result.Stdout.Split('\n');
        lines.Should().Contain(l => l.StartsWith("last pass    ", StringComparison.Ordinal) && l.Contains("  Applied: 5 file(s) changed, runtime reloaded", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("rendered     sha256:", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("objects      ", StringComparison.Ordinal) && l.Contains("ImageDigestMirrorSet/release-backup", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("last reload  ", StringComparison.Ordinal) && l.EndsWith("succeeded (1 run(s))", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("  etc/containers/registries.conf ", StringComparison.Ordinal) && l.EndsWith("as node-agent wrote it", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("  mirror.corp.example:5000 ", StringComparison.Ordinal) && l.EndsWith("days left", StringComparison.Ordinal));
        result.Stderr.Should().BeEmpty();
    }

    [Fact]
    public void A_file_someone_else_changed_or_removed_is_named()
    {
        Apply();
        File.AppendAllText(Path.Join(Root, "etc/containers/registries.conf"), "# edited by hand\n");
        File.Delete(Path.Join(Root, "etc/containers/policy.json"));

        var lines = Status().Stdout.Split('\n');

        lines.Should().Contain(l => l.StartsWith("  etc/containers/registries.conf ", StringComparison.Ordinal) && l.EndsWith("changed by someone else since node-agent wrote it", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("  etc/containers/policy.json ", StringComparison.Ordinal) && l.EndsWith("missing: removed by someone else", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_pass_that_changes_nothing_keeps_the_status_and_its_time()
    {
        Apply();
        var first = File.ReadAllBytes(Path.Join(Root, "var/lib/node-agent/status.json"));

        Apply();

        File.ReadAllBytes(Path.Join(Root, "var/lib/node-agent/status.json")).Should().Equal(first);
        Status().Stdout.Should().Contain("Applied: 5 file(s) changed");
    }

    [Fact]
    public void Json_has_the_status_and_every_file()
    {
        Apply();

        var document = JsonNode.Parse(Status("--output", "json").Stdout)!;

        document["root"]!.GetValue<string>().Should().Be(Root);
        document["lastPass"]!["result"]!.GetValue<string>().Should().Be("Applied");
        document["lastPass"]!["renderedHash"]!.GetValue<string>().Should().HaveLength(64);
        document["lastPass"]!["caExpiry"]!.AsObject().Select(p => p.Key).Should().Equal("lab-registry.corp.example:5000", "mirror.corp.example:5000");
        document["files"]!.AsArray().Select(f => f!["path"]!.GetValue<string>()).Should().Contain("etc/containers/registries.conf");
        document["files"]!.AsArray().Should().OnlyContain(f => f!["state"]!.GetValue<string>() == "as node-agent wrote it");
    }

    [Fact]
    public void A_root_without_records_says_so()
    {
        Directory.CreateDirectory(Root);

        var result = Status();

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("last pass    none recorded");
        result.Stdout.Should().Contain("  none managed");
        Directory.EnumerateFileSystemEntries(Root).Should().BeEmpty("status only reads");
    }

    [Fact]
    public void A_root_that_does_not_exist_is_invalid_input_naming_it()
    {
        var result = Status();

        result.ExitCode.Should().Be(2, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().Equal($"error: --root {Root} does not exist; give the directory node-agent renders into (default /)");
        Directory.Exists(Root).Should().BeFalse("status only reads");
    }

    [Fact]
    public void A_user_who_may_not_read_the_records_gets_one_line_naming_the_file_and_exit_1()
    {
        Apply();
        // Every directory above the records lets the user through; state.json is root's, 0600, as
        // node-agent writes it. The tests' own user owns it, so then it is made unreadable by hand.
        Unprivileged.OpenToEveryone(_work.Path, Root);
        if (!Unprivileged.AsNobody)
        {
            File.SetUnixFileMode(Path.Join(Root, "var/lib/node-agent/state.json"), UnixFileMode.None);
        }

        var result = Unprivileged.Run(["status", "--root", Root]);

        result.ExitCode.Should().Be(1, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().ContainSingle().Which.Should().StartWith(
            $"error: cannot read {Path.Join(Root, "var/lib/node-agent/state.json")}: permission denied; run node-agent status as root");
    }

    [Fact]
    public void A_records_directory_the_user_may_not_enter_is_permission_denied_not_an_empty_node()
    {
        Apply();
        Unprivileged.OpenToEveryone(_work.Path, Root);
        var state = Path.Join(Root, "var/lib/node-agent");
        File.SetUnixFileMode(state, UnixFileMode.None);
        try
        {
            var result = Unprivileged.Run(["status", "--root", Root]);

            result.ExitCode.Should().Be(1, result.ToString());
            result.Stdout.Should().NotContain("none recorded");
            result.StderrLines.Should().ContainSingle().Which.Should().StartWith($"error: cannot read {state}/state.json: permission denied");
        }
        finally
        {
            File.SetUnixFileMode(state, NodeAgent.Node.AtomicFile.DirectoryMode0755);
        }
    }

    [Fact]
    public void Dry_runs_and_invalid_input_leave_the_status_alone()
    {
        Apply();
        var before = File.ReadAllBytes(Path.Join(Root, "var/lib/node-agent/status.json"));
        var bad = _work.Write("bad/idms.yaml", Manifests.Idms("bad", "- source: quay.io/x\n  mirrors: [\"*.x/y\"]"));

        NodeAgentProcess.Run(["--once", "--manifests", Path.GetDirectoryName(bad)!, "--root", Root, "--reload-command", ""]).ExitCode.Should().Be(2);
        NodeAgentProcess.Run(["--once", "--manifests", RepoPaths.Examples, "--root", Root, "--dry-run"]).ExitCode.Should().Be(0);

        File.ReadAllBytes(Path.Join(Root, "var/lib/node-agent/status.json")).Should().Equal(before);
    }

    [Theory]
    [InlineData(new[] { "status", "extra" }, "status takes no arguments")]
    [InlineData(new[] { "status", "--once" }, "status does not take --once")]
    [InlineData(new[] { "status", "--probe" }, "status does not take --probe")]
    [InlineData(new[] { "status", "--kubeconfig", "x" }, "status does not take --kubeconfig")]
    public void Usage_errors_exit_2(string[] args, string message)
    {
        var result = NodeAgentProcess.Run(args);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Stderr.Should().Contain(message);
    }
}
