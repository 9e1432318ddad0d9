using System.Text;
using FluentAssertions;
using NodeAgent.Node;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Node;

/// <summary>Ownership, originals, last-known-good and rollback on a real temp root.</summary>
public sealed class FileApplierTests : IDisposable
{
    private const string Conf = HostPaths.RegistriesConf;
    private const string DropIn = HostPaths.SearchDropIn;

    private readonly TempRoot _root = new();
    private readonly StateStore _store;
    private readonly FileApplier _applier;

    public FileApplierTests()
    {
        _store = new StateStore(new HostPaths(_root.Path));
        _applier = new FileApplier(_store);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void A_foreign_file_is_kept_aside_before_it_is_replaced()
    {
        _root.Write(Conf, "# the OS's registries.conf\n");
        Apply(new DesiredFile(Conf, Bytes("ours\n")));

        _root.Read(Conf).Should().Be("ours\n");
        _root.Read(StateStore.OriginalCopy(Conf)).Should().Be("# the OS's registries.conf\n");
        _store.Load().Files[Conf].OriginalSaved.Should().BeTrue();
    }

    [Fact]
    public void The_original_is_recorded_once_and_never_overwritten_by_our_own_content()
    {
        _root.Write(Conf, "original\n");
        Apply(new DesiredFile(Conf, Bytes("v1\n")));
        Apply(new DesiredFile(Conf, Bytes("v2\n")));
        _root.Read(StateStore.OriginalCopy(Conf)).Should().Be("original\n");
    }

    [Fact]
    public void A_released_file_gets_its_original_back()
    {
        _root.Write(DropIn, "unqualified-search-registries = [\"admin.io\"]\n");
        Apply(new DesiredFile(DropIn, Bytes("ours\n")));
        Apply(new DesiredFile(DropIn, null));

        _root.Read(DropIn).Should().Be("unqualified-search-registries = [\"admin.io\"]\n");
        _store.Load().Files.Should().NotContainKey(DropIn);
        File.Exists(_root.File(StateStore.OriginalCopy(DropIn))).Should().BeFalse("the kept copy is no longer needed");
    }

    [Fact]
    public void A_released_original_gets_its_own_mode_back()
    {
        var path = _root.Write(DropIn, "admin's\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Apply(new DesiredFile(DropIn, Bytes("ours\n")));
        File.GetUnixFileMode(path).Should().Be(AtomicFile.FileMode0644, "node-agent's own file is 0644");

        Apply(new DesiredFile(DropIn, null));
        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        _root.Read(DropIn).Should().Be("admin's\n");
    }

    [Fact]
    public void A_file_node_agent_created_is_removed_when_released()
    {
        Apply(new DesiredFile(DropIn, Bytes("ours\n")));
        Apply(new DesiredFile(DropIn, null));
        File.Exists(_root.File(DropIn)).Should().BeFalse();
    }

    [Fact]
    public void A_file_node_agent_does_not_manage_is_never_removed()
    {
        _root.Write(DropIn, "admin's own\n");
        var state = _store.Load();
        _applier.Plan([new DesiredFile(DropIn, null)], state).Should().BeEmpty();
        Apply(new DesiredFile(DropIn, null));
        _root.Read(DropIn).Should().Be("admin's own\n");
    }

    [Fact]
    public void Unchanged_content_plans_no_change()
    {
        Apply(new DesiredFile(Conf, Bytes("same\n")));
        _applier.Plan([new DesiredFile(Conf, Bytes("same\n"))], _store.Load()).Should().BeEmpty();
    }

    [Fact]
    public void Rollback_restores_the_last_known_good_content()
    {
        Apply(new DesiredFile(Conf, Bytes("good\n")));
        var state = _store.Load();
        var changes = _applier.Plan([new DesiredFile(Conf, Bytes("bad\n"))], state);
        _applier.Apply(changes, state);
        _root.Read(Conf).Should().Be("bad\n");

        _applier.RollBack(changes, state).Should().Equal(Conf);
        _root.Read(Conf).Should().Be("good\n");
        _store.Load().Files[Conf].WrittenSha256.Should().Be(FileApplier.Sha256(Bytes("good\n")), "what the rollback put back is node-agent's content");
        _applier.Plan([new DesiredFile(Conf, Bytes("bad\n"))], _store.Load()).Single().Drifted.Should().BeFalse();
    }

    [Fact]
    public void Rollback_before_any_success_restores_what_was_there()
    {
        _root.Write(Conf, "os default\n");
        var state = _store.Load();
        var changes = _applier.Plan([new DesiredFile(Conf, Bytes("new\n")), new DesiredFile(DropIn, Bytes("drop-in\n"))], state);
        _applier.Apply(changes, state);
        _applier.RollBack(changes, state);

        _root.Read(Conf).Should().Be("os default\n");
        File.Exists(_root.File(DropIn)).Should().BeFalse("it did not exist before");
    }

    [Fact]
    public void Rollback_of_a_release_puts_node_agents_good_file_back()
    {
        Apply(new DesiredFile(DropIn, Bytes("ours\n")));
        var state = _store.Load();
        var changes = _applier.Plan([new DesiredFile(DropIn, null)], state);
        _applier.Apply(changes, state);
        File.Exists(_root.File(DropIn)).Should().BeFalse();

        _applier.RollBack(changes, state);
        _root.Read(DropIn).Should().Be("ours\n");
        _store.Load().Files.Should().ContainKey(DropIn, "still managed after the rollback");
    }

    [Fact]
    public void Files_are_written_with_mode_0644_and_directories_0755()
    {
        Apply(new DesiredFile(DropIn, Bytes("x\n")));
        File.GetUnixFileMode(_root.File(DropIn)).Should().Be(AtomicFile.FileMode0644);
        File.GetUnixFileMode(Path.GetDirectoryName(_root.File(DropIn))!).Should().Be(AtomicFile.DirectoryMode0755);
    }

    [Theory]
    [InlineData("etc", "a symlinked /etc")]
    [InlineData("etc/containers", "a symlinked directory")]
    [InlineData("etc/containers/registries.conf", "a symlinked file")]
    public void Writes_never_go_through_a_symbolic_link(string linked, string reason)
    {
        using var outside = new TempRoot("outside");
        var linkPath = _root.File(linked);
        Directory.CreateDirectory(Path.GetDirectoryName(linkPath)!);
        if (linked.EndsWith(".conf", StringComparison.Ordinal))
        {
            File.WriteAllText(outside.File("target.conf"), "outside\n");
            File.CreateSymbolicLink(linkPath, outside.File("target.conf"));
        }
        else
        {
            Directory.CreateSymbolicLink(linkPath, outside.Path);
        }
        var before = outside.Snapshot();

        var act = () => Apply(new DesiredFile(Conf, Bytes("ours\n")));
        act.Should().Throw<UnsafePathException>(reason);
        outside.Snapshot().Should().Equal(before, "nothing outside the root may change");
    }

    [Fact]
    public void A_relative_symlink_that_stays_inside_is_refused_too()
    {
        Directory.CreateDirectory(_root.File("etc/real"));
        File.CreateSymbolicLink(_root.File("etc/containers"), "real");
        var act = () => Apply(new DesiredFile(Conf, Bytes("ours\n")));
        act.Should().Throw<UnsafePathException>();
        Directory.EnumerateFileSystemEntries(_root.File("etc/real")).Should().BeEmpty();
    }

    [Fact]
    public void Stale_temp_files_are_removed_but_nothing_else()
    {
        var dir = _root.File("etc/containers/registries.conf.d");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Join(dir, $".01-x.conf{AtomicFile.TempMarker}abc.tmp"), "partial");
        File.WriteAllText(Path.Join(dir, "99-admin.conf"), "admin");
        File.WriteAllText(Path.Join(dir, ".hidden.tmp"), "someone else's");

        AtomicFile.RemoveStaleTemps(dir).Should().Be(1);
        Directory.EnumerateFiles(dir).Select(Path.GetFileName).Should().BeEquivalentTo(["99-admin.conf", ".hidden.tmp"]);
    }

    // ---- drift: what node-agent wrote against what is there --------------------------------------

    [Fact]
    public void A_file_changed_after_node_agent_wrote_it_is_planned_as_drifted_with_node_agents_bytes()
    {
        Apply(new DesiredFile(Conf, Bytes("ours\n")));
        _root.Write(Conf, "theirs\n");

        var change = _applier.Plan([new DesiredFile(Conf, Bytes("ours\n"))], _store.Load()).Should().ContainSingle().Subject;
        change.Drifted.Should().BeTrue();
        change.RestoresOnly.Should().BeTrue();
        Encoding.UTF8.GetString(change.Ours!).Should().Be("ours\n");
        Encoding.UTF8.GetString(change.Before!).Should().Be("theirs\n");
    }

    [Fact]
    public void A_render_change_is_no_drift_and_node_agents_own_writes_are_never_drift()
    {
        Apply(new DesiredFile(Conf, Bytes("v1\n")));
        var change = _applier.Plan([new DesiredFile(Conf, Bytes("v2\n"))], _store.Load()).Should().ContainSingle().Subject;
        change.Drifted.Should().BeFalse();
        Apply(new DesiredFile(Conf, Bytes("v2\n")));
        _store.Load().Files[Conf].WrittenSha256.Should().Be(FileApplier.Sha256(Bytes("v2\n")));
        _store.Load().Files[Conf].PendingSha256.Should().BeNull();
    }

    [Fact]
    public void A_deleted_file_drifted_and_a_foreign_file_never_taken_over_did_not()
    {
        Apply(new DesiredFile(Conf, Bytes("ours\n")));
        File.Delete(_root.File(Conf));
        _root.Write(DropIn, "admin's\n");

        var changes = _applier.Plan([new DesiredFile(Conf, Bytes("ours\n")), new DesiredFile(DropIn, Bytes("ours\n"))], _store.Load());
        changes.Single(c => c.Path == Conf).Drifted.Should().BeTrue("node-agent wrote it and someone deleted it");
        changes.Single(c => c.Path == DropIn).Drifted.Should().BeFalse("node-agent never wrote it: a take-over, not drift");
    }

    [Fact]
    public void A_crash_between_recording_and_writing_is_no_drift_either_way()
    {
        Apply(new DesiredFile(Conf, Bytes("v1\n")));
        // Recorded, then killed before the write: the file still holds v1.
        RecordPending("v2\n");
        _applier.Plan([new DesiredFile(Conf, Bytes("v2\n"))], _store.Load()).Single().Drifted.Should().BeFalse();

        // Written, then killed before the records: the file holds v2, recorded only as pending.
        _root.Write(Conf, "v2\n");
        var recorded = _store.Load();
        _applier.Plan([new DesiredFile(Conf, Bytes("v3\n"))], recorded).Single().Drifted.Should().BeFalse();
        FileApplier.Settle([new DesiredFile(Conf, Bytes("v2\n"))], [], recorded).Should().BeTrue("the next pass settles the records");
        recorded.Files[Conf].WrittenSha256.Should().Be(FileApplier.Sha256(Bytes("v2\n")));
        recorded.Files[Conf].PendingSha256.Should().BeNull();
    }

    [Fact]
    public void A_crash_cut_write_is_resolved_before_the_next_write_records_its_own()
    {
        Apply(new DesiredFile(Conf, Bytes("v0\n")));
        // Killed after writing v1 and before its records: the file holds v1, recorded as pending.
        RecordPending("v1\n");
        _root.Write(Conf, "v1\n");

        // The next run, back to v0, is killed after recording and before writing.
        var next = _store.Load();
        _applier.Recover(next).Should().BeTrue();
        next.Files[Conf].WrittenSha256.Should().Be(FileApplier.Sha256(Bytes("v1\n")), "v1 on disk is node-agent's");
        _store.Save(next);
        RecordPending("v0\n");

        _applier.Plan([new DesiredFile(Conf, Bytes("v0\n"))], _store.Load()).Single().Drifted.Should().BeFalse();
        var unwritten = _store.Load();
        _applier.Recover(unwritten).Should().BeTrue();
        unwritten.Files[Conf].WrittenSha256.Should().Be(FileApplier.Sha256(Bytes("v1\n")), "v0 was never written");
        unwritten.Files[Conf].PendingSha256.Should().BeNull();
    }

    [Fact]
    public void A_taken_over_file_recorded_before_a_crash_is_not_drift()
    {
        _root.Write(Conf, "os default\n");
        var state = _store.Load();
        var changes = _applier.Plan([new DesiredFile(Conf, Bytes("ours\n"))], state);
        state.Files[Conf] = new ManagedFile { OriginalSaved = true, PendingSha256 = FileApplier.Sha256(Bytes("ours\n")) };
        _store.Save(state);

        _applier.Plan([new DesiredFile(Conf, Bytes("ours\n"))], _store.Load()).Single().Drifted.Should().BeFalse("node-agent has written nothing there yet");
        changes.Should().ContainSingle();
    }

    [Fact]
    public void Releasing_a_file_someone_else_changed_leaves_their_content()
    {
        _root.Write(DropIn, "admin's original\n");
        Apply(new DesiredFile(DropIn, Bytes("ours\n")));
        _root.Write(DropIn, "changed since\n");

        var change = _applier.Plan([new DesiredFile(DropIn, null)], _store.Load()).Should().ContainSingle().Subject;
        change.Drifted.Should().BeTrue();
        change.Release.Should().BeTrue();
        Apply(new DesiredFile(DropIn, null));
        _root.Read(DropIn).Should().Be("changed since\n", "content put there after node-agent is not replaced by an older original");
        _store.Load().Files.Should().NotContainKey(DropIn);
        File.Exists(_root.File(StateStore.OriginalCopy(DropIn))).Should().BeFalse();
    }

    [Fact]
    public void A_release_cut_short_before_its_records_is_finished_without_drift()
    {
        _root.Write(DropIn, "admin's original\n");
        Apply(new DesiredFile(DropIn, Bytes("ours\n")));
        _root.Write(DropIn, "admin's original\n"); // the release wrote it back, then the process died

        var change = _applier.Plan([new DesiredFile(DropIn, null)], _store.Load()).Should().ContainSingle().Subject;
        change.Drifted.Should().BeFalse();
        Apply(new DesiredFile(DropIn, null));
        _store.Load().Files.Should().NotContainKey(DropIn);
    }

    // What Apply records for registries.conf before writing it, as if the process died right after.
    private void RecordPending(string content)
    {
        var state = _store.Load();
        state.Files[Conf].PendingSha256 = FileApplier.Sha256(Bytes(content));
        _store.Save(state);
    }

    private void Apply(DesiredFile file)
    {
        var state = _store.Load();
        var changes = _applier.Plan([file], state);
        _applier.Apply(changes, state);
        _applier.MarkGood(changes, state);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
