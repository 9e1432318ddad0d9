using System.Text;
using FluentAssertions;
using NodeAgent.Node;
using NodeAgent.Sync;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Sync;

/// <summary>
/// Drift through the pass's own path (<see cref="NodeApplier"/>) on a real temp root: each kind of
/// managed file edited, deleted or replaced by someone else is reported once with a short diff and
/// restored; the runtime reloads only for its own files; files node-agent does not manage are never
/// touched; a dry run only reports; node-agent's own writes and rollbacks are never drift; and with
/// the daemon's guard, restores follow the back-off.
/// </summary>
public sealed class DriftTests : IDisposable
{
    private const string Ca = "etc/docker/certs.d/reg.example:5000/ca.crt";
    private const string AdminDropIn = "etc/containers/registries.conf.d/99-admin.conf";
    private const string AdminClientCert = "etc/docker/certs.d/reg.example:5000/client.cert";
    private const int DriftEvent = 80;
    private const int BackingOffEvent = 81;

    private readonly TempRoot _root = new("drift");
    private readonly ListLogger _log = new();
    private readonly HostPaths _paths;
    private readonly string _reloads;
    private readonly Dictionary<string, byte[]?> _desired = new(StringComparer.Ordinal)
    {
        [Ca] = Bytes("-----BEGIN CERTIFICATE-----\nours\n-----END CERTIFICATE-----\n"),
        [HostPaths.PolicyJson] = Bytes("{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n"),
        [HostPaths.SearchDropIn] = Bytes("unqualified-search-registries = [\"search.example\"]\n"),
        [HostPaths.RegistriesConf] = Bytes(string.Concat(Enumerable.Range(1, 40).Select(i => $"# line {i}\n"))),
    };

    public DriftTests()
    {
        _paths = new HostPaths(_root.File("root"));
        _reloads = _root.File("reloads");
        _root.Write("root/" + AdminDropIn, "unqualified-search-registries = [\"admin.example\"]\n");
        _root.Write("root/" + AdminClientCert, "admin's client certificate\n");
    }

    public void Dispose() => _root.Dispose();

    public static TheoryData<string, string> EveryKindAndChange()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in new[] { HostPaths.RegistriesConf, HostPaths.PolicyJson, HostPaths.SearchDropIn, Ca })
        {
            foreach (var change in new[] { "edit", "delete", "replace" })
            {
                data.Add(file, change);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryKindAndChange))]
    public async Task A_managed_file_changed_by_someone_else_is_reported_once_and_restored(string file, string change)
    {
        (await ApplyAsync()).Outcome.Should().Be(SyncOutcome.Applied);
        var reloadsBefore = Reloads();
        var foreign = ForeignFiles();
        var ours = File.ReadAllBytes(_paths.Resolve(file));
        _log.Clear();

        Change(file, change);
        var result = await ApplyAsync();

        result.Outcome.Should().Be(SyncOutcome.Applied, result.Summary);
        result.Drifted.Should().Equal(file);
        result.Summary.Should().Contain("1 drifted file(s) restored");
        File.ReadAllBytes(_paths.Resolve(file)).Should().Equal(ours);
        var warning = _log.Messages(DriftEvent).Should().ContainSingle().Subject;
        warning.Should().Contain(file).And.Contain("another writer (node-agent cannot tell which)").And.Contain("restoring node-agent's content now");
        if (change == "delete")
        {
            warning.Should().Contain("was deleted").And.EndWith("none, the file is gone");
        }
        else
        {
            warning.Should().Contain("was changed").And.Contain("@@ ").And.Contain(@"\n+someone else's line", "the other writer's lines stay in view");
        }
        _log.Messages(30).Should().ContainSingle().Which.Should().StartWith($"restored {file} ");
        // CRI-O re-reads registries.conf and its drop-ins on a reload; policy.json and CA files on every pull.
        Reloads().Should().Be(reloadsBefore + (file == Ca || file == HostPaths.PolicyJson ? 0 : 1), "only registries.conf and its drop-ins need a reload");
        ForeignFiles().Should().Equal(foreign, "files node-agent does not manage are never touched");

        _log.Clear();
        var again = await ApplyAsync();
        again.Outcome.Should().Be(SyncOutcome.Unchanged);
        again.Drifted.Should().BeEmpty();
        _log.Messages(DriftEvent).Should().BeEmpty("a restored file is node-agent's again");
    }

    [Fact]
    public async Task The_diff_in_the_warning_is_short_and_on_one_line()
    {
        await ApplyAsync();
        // The first line gets a terminal escape; 30 lines are added at the end.
        var ours = File.ReadAllText(_paths.Resolve(HostPaths.RegistriesConf));
        File.WriteAllText(_paths.Resolve(HostPaths.RegistriesConf), "\u001b[31m" + ours + string.Concat(Enumerable.Range(1, 30).Select(i => $"# theirs {i}\n")));
        await ApplyAsync();

        var warning = _log.Messages(DriftEvent).Should().ContainSingle().Subject;
        warning.Should().NotContain("\n").And.NotContain("\u001b");
        warning.Should().Contain(@"\u001b[31m", "control characters are escaped");
        warning.Split(@"\n").Length.Should().Be(21, "20 diff lines and the count of the rest");
        warning.Should().Contain(@"@@ -1,4 +1,4 @@\n-# line 1\n+\u001b[31m# line 1\n # line 2");
        warning.Should().EndWith("… 20 more lines", "two hunks: 6 lines, then 34 of which 14 fit");
    }

    [Fact]
    public async Task A_dry_run_reports_the_drift_and_changes_nothing()
    {
        await ApplyAsync();
        Change(HostPaths.PolicyJson, "edit");
        var before = DirectorySnapshot.Of(_paths.Root);
        var output = new StringWriter();

        new NodeApplier(_paths, _log).DryRun(_ => Desired(), new DryRunOutput(output, TextWriter.Null, Json: false)).Should().Be(SyncOutcome.DryRun);

        DirectorySnapshot.Of(_paths.Root).Should().Equal(before);
        output.ToString().Should().StartWith($"--- a/{HostPaths.PolicyJson}\n+++ b/{HostPaths.PolicyJson}\n");
        _log.Messages(DriftEvent).Should().ContainSingle().Which.Should().Contain(HostPaths.PolicyJson).And.Contain("dry run: it would be restored; nothing is written");
    }

    [Fact]
    public async Task Node_agents_own_writes_and_rollbacks_are_never_drift()
    {
        await ApplyAsync();
        _desired[HostPaths.RegistriesConf] = Bytes("# new render\n");
        (await ApplyAsync()).Outcome.Should().Be(SyncOutcome.Applied);

        // The runtime refuses "bad": node-agent rolls back to its last good files.
        _desired[HostPaths.RegistriesConf] = Bytes("# bad\n");
        var reload = $"echo x >> {_reloads}; ! grep -q bad {_paths.Resolve(HostPaths.RegistriesConf)}";
        (await ApplyAsync(reload: reload)).Outcome.Should().Be(SyncOutcome.RolledBack);
        File.ReadAllText(_paths.Resolve(HostPaths.RegistriesConf)).Should().Be("# new render\n");

        _desired[HostPaths.RegistriesConf] = Bytes("# new render\n");
        (await ApplyAsync()).Outcome.Should().Be(SyncOutcome.Unchanged);
        _log.Messages(DriftEvent).Should().BeEmpty();
    }

    [Fact]
    public async Task Writes_by_another_node_agent_on_the_same_root_are_not_drift()
    {
        await ApplyAsync();
        // A --once next to the daemon: its own process, the same state and lock.
        var other = new NodeApplier(_paths, new ListLogger());
        _desired[HostPaths.RegistriesConf] = Bytes("# written by the other run\n");
        (await other.ApplyAsync(_ => Desired(), "", null, null, CancellationToken.None)).Outcome.Should().Be(SyncOutcome.Applied);
        var store = new StateStore(_paths);
        DriftCheck.Drifted(store, [HostPaths.RegistriesConf], _ => false).Should().BeEmpty();

        (await ApplyAsync()).Outcome.Should().Be(SyncOutcome.Unchanged);
        _log.Messages(DriftEvent).Should().BeEmpty();

        File.AppendAllText(_paths.Resolve(HostPaths.RegistriesConf), "# someone else's line\n");
        DriftCheck.Drifted(store, ["etc/containers"], _ => false).Should().Equal(HostPaths.RegistriesConf);
        DriftCheck.Drifted(store, null, _ => false).Should().Equal(HostPaths.RegistriesConf);
        DriftCheck.Drifted(store, [AdminDropIn], _ => false).Should().BeEmpty("a change to a file node-agent does not manage is none of its business");
        DriftCheck.Drifted(store, null, path => path == HostPaths.RegistriesConf).Should().BeEmpty();
    }

    [Fact]
    public async Task A_managed_file_the_render_leaves_alone_is_not_restored()
    {
        await ApplyAsync();
        // A CA key whose value is unusable now: the render keeps the last good ca.crt, neither
        // writing nor releasing it, so there is nothing to restore it to.
        _desired.Remove(Ca);
        Change(Ca, "edit");
        var result = await ApplyAsync();

        result.Outcome.Should().Be(SyncOutcome.Unchanged);
        result.Drifted.Should().BeEmpty();
        File.ReadAllText(_paths.Resolve(Ca)).Should().EndWith("someone else's line\n");
    }

    [Fact]
    public async Task With_the_daemons_guard_a_file_that_keeps_changing_is_restored_only_as_the_back_off_allows()
    {
        var clock = new ManualClock();
        var guard = new DriftGuard(TimeSpan.FromSeconds(10), clock);
        await ApplyAsync(guard);
        var conf = _paths.Resolve(HostPaths.RegistriesConf);

        Change(HostPaths.RegistriesConf, "edit");
        (await ApplyAsync(guard)).Drifted.Should().Equal(HostPaths.RegistriesConf);
        File.ReadAllBytes(conf).Should().Equal(_desired[HostPaths.RegistriesConf], "the first drift is restored at once");

        clock.Advance(TimeSpan.FromSeconds(1));
        Change(HostPaths.RegistriesConf, "edit");
        _log.Clear();
        var held = await ApplyAsync(guard);
        held.Outcome.Should().Be(SyncOutcome.Unchanged);
        held.DriftHeld.Should().Equal(HostPaths.RegistriesConf);
        held.Summary.Should().Be("nothing else to write; 1 drifted file(s) held back by the drift back-off: etc/containers/registries.conf");
        File.ReadAllText(conf).Should().Contain("someone else's line", "held back for the rest of the interval");
        _log.Messages(DriftEvent).Should().ContainSingle().Which.Should().Contain("restoring it in 9 s");
        guard.NextDue().Should().Be(TimeSpan.FromSeconds(9));

        _log.Clear();
        (await ApplyAsync(guard)).Drifted.Should().BeEmpty("the same foreign content is reported once");
        _log.Messages(DriftEvent).Should().BeEmpty();

        clock.Advance(TimeSpan.FromSeconds(9));
        var restored = await ApplyAsync(guard);
        restored.Outcome.Should().Be(SyncOutcome.Applied);
        File.ReadAllBytes(conf).Should().Equal(_desired[HostPaths.RegistriesConf]);
        _log.Messages(BackingOffEvent).Should().ContainSingle().Which.Should().Contain("at most every 20 s");
    }

    [Fact]
    public async Task A_change_the_cluster_asks_for_is_written_at_once_even_while_a_restore_is_held_back()
    {
        var clock = new ManualClock();
        var guard = new DriftGuard(TimeSpan.FromSeconds(10), clock);
        await ApplyAsync(guard);
        Change(HostPaths.RegistriesConf, "edit");
        await ApplyAsync(guard);
        Change(HostPaths.RegistriesConf, "edit");
        (await ApplyAsync(guard)).DriftHeld.Should().ContainSingle();

        _desired[HostPaths.RegistriesConf] = Bytes("# the cluster changed\n");
        var result = await ApplyAsync(guard);
        result.DriftHeld.Should().BeEmpty();
        File.ReadAllText(_paths.Resolve(HostPaths.RegistriesConf)).Should().Be("# the cluster changed\n");
    }

    private async Task<SyncResult> ApplyAsync(DriftGuard? guard = null, string? reload = null) =>
        await new NodeApplier(_paths, _log).ApplyAsync(_ => Desired(), reload ?? $"echo x >> {_reloads}", "true", guard, CancellationToken.None);

    private List<DesiredFile> Desired() => [.. _desired.Select(d => new DesiredFile(d.Key, d.Value))];

    private void Change(string file, string how)
    {
        var path = _paths.Resolve(file);
        switch (how)
        {
            case "edit":
                File.AppendAllText(path, "someone else's line\n");
                break;
            case "delete":
                File.Delete(path);
                break;
            default:
                // Another tool's own atomic write: a new file renamed over ours.
                var temp = path + ".theirs";
                File.WriteAllText(temp, "someone else's line\n");
                File.Move(temp, path, overwrite: true);
                break;
        }
    }

    private int Reloads() => File.Exists(_reloads) ? File.ReadAllLines(_reloads).Length : 0;

    private SortedDictionary<string, string> ForeignFiles() => new(
        new[] { AdminDropIn, AdminClientCert }.ToDictionary(f => f, f => File.ReadAllText(_paths.Resolve(f))), StringComparer.Ordinal);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
