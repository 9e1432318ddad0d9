using FluentAssertions;
using NodeAgent.Node;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// A CRI-O reload is confirmed from CRI-O's journal (node-apply.md §3): a refusal there is a
/// failed reload and rolls back, though <c>systemctl reload</c> succeeded. The binary runs with a
/// <c>systemctl</c> and a <c>journalctl</c> of the test's own on PATH: reloading crio.service
/// appends what CRI-O would log to a journal file, which journalctl serves by cursor.
/// </summary>
public sealed class ReloadConfirmationTests : IDisposable
{
    private const string Applied = "time=\"2026-12-08T10:00:01Z\" level=info msg=\"Applied new registry configuration: &{Registries:[...]}\"";
    private const string Refused = "time=\"2026-12-08T10:00:01Z\" level=error msg=\"Unable to reload configuration: system registries reload failed: registry 'reg.io' is defined multiple times with conflicting 'insecure' setting\"";

    private readonly TempRoot _work = new("reload-confirmation");

    public ReloadConfirmationTests()
    {
        // systemctl reload crio.service: CRI-O's next answer from the list "answers", one per reload.
        _work.Write("bin/systemctl", $$"""
            #!/bin/sh
            [ "$1" = reload ] || exit 0
            n=$(cat {{_work.File("reloads")}} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {{_work.File("reloads")}}
            sed -n "${n}p" {{_work.File("answers")}} >> {{_work.File("journal")}}
            """);
        // journalctl: the cursor is the number of journal lines; --after-cursor prints the rest.
        _work.Write("bin/journalctl", $$"""
            #!/bin/sh
            touch {{_work.File("journal")}}
            for a in "$@"; do
              case "$a" in
                --show-cursor) echo "-- cursor: n=$(wc -l < {{_work.File("journal")}})"; exit 0 ;;
                --after-cursor=*) k=${a#--after-cursor=n=}; tail -n +$((k + 1)) {{_work.File("journal")}}; exit 0 ;;
              esac
            done
            """);
        foreach (var tool in new[] { "bin/systemctl", "bin/journalctl" })
        {
            File.SetUnixFileMode(_work.File(tool), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    [Fact]
    public void A_reload_crio_refuses_in_its_journal_rolls_back_and_exits_1()
    {
        Answers("", Refused, Applied);
        Once("good.example:5000").ExitCode.Should().Be(0);
        var good = DirectorySnapshot.Of(Path.Join(Root, "etc"));

        var result = Once("other.example:5000");

        result.ExitCode.Should().Be(1, result.ToString());
        result.Stderr.Should().Contain("crio.service refused the new configuration and keeps running with the old one").And.Contain("Unable to reload configuration");
        result.Stderr.Should().Contain("rolled back");
        DirectorySnapshot.Of(Path.Join(Root, "etc")).Should().Equal(good, "the last good files are back");
        File.ReadAllText(_work.File("reloads")).Trim().Should().Be("3", "the rollback is reloaded too");
    }

    [Fact]
    public void A_reload_crio_confirms_is_logged_as_confirmed()
    {
        Answers(Applied);

        var result = Once("good.example:5000");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().Contain("crio.service confirmed the reload: " + Applied);
    }

    [Fact]
    public void A_reload_crio_says_nothing_about_goes_on_with_a_warning()
    {
        Answers("");

        var result = Once("good.example:5000");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().Contain("crio.service logged neither \"Applied new registry configuration\" nor a reload error within 5 s");
    }

    [Theory]
    [InlineData(Applied, ReloadVerdict.Confirmed)]
    [InlineData(Refused, ReloadVerdict.Rejected)]
    [InlineData("level=error msg=\"system registries reload failed: invalid location\"", ReloadVerdict.Rejected)]
    [InlineData("level=info msg=\"Reloading configuration\"", ReloadVerdict.Silent)]
    public void Journal_lines_are_classified_as_crio_writes_them(string line, ReloadVerdict verdict)
    {
        CrioJournal.Classify(["level=info msg=\"Got SIGHUP\"", line]).Verdict.Should().Be(verdict);
    }

    [Fact]
    public void The_cursor_is_read_from_journalctl_show_cursor()
    {
        CrioJournal.ParseCursor("-- cursor: s=0a1b;i=2f;b=9c;m=1;t=5;x=77\n").Should().Be("s=0a1b;i=2f;b=9c;m=1;t=5;x=77");
        CrioJournal.ParseCursor("-- No entries --\n").Should().BeNull();
    }

    private void Answers(params string[] lines) => File.WriteAllText(_work.File("answers"), string.Join('\n', lines) + "\n");

    private ProcessResult Once(string insecure)
    {
        var manifests = _work.Write($"m-{Guid.NewGuid():N}/image.yaml", Manifests.Image($"insecureRegistries: [{insecure}]"));
        return NodeAgentProcess.Run(
            ["--once", "--manifests", manifests, "--root", Root, "--reload-command", "systemctl reload crio.service", "--health-command", "true"],
            new Dictionary<string, string> { ["PATH"] = $"{_work.File("bin")}:{Environment.GetEnvironmentVariable("PATH")}" });
    }
}
