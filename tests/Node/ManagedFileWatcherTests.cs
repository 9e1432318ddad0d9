using FluentAssertions;
using NodeAgent.Node;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Node;

/// <summary>The inotify watch of the trees node-agent writes to, on a real temp root.</summary>
public sealed class ManagedFileWatcherTests : IDisposable
{
    private const string Ca = "etc/docker/certs.d/reg.example:5000/ca.crt";

    private readonly TempRoot _root = new("watch");
    private readonly HostPaths _paths;
    private readonly List<string> _failures = [];
    private readonly ManagedFileWatcher _watcher;

    public ManagedFileWatcherTests()
    {
        _paths = new HostPaths(_root.Path);
        _watcher = new ManagedFileWatcher(_paths, HostPaths.WrittenTrees(["/etc/docker/certs.d", "/etc/containers/certs.d"]), _failures.Add);
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void The_trees_are_etc_containers_and_each_certs_target_outside_it()
    {
        _watcher.Trees.Should().Equal("etc/containers", "etc/docker/certs.d");
    }

    [Fact]
    public async Task Changes_are_reported_by_path_and_node_agents_temp_files_are_not()
    {
        _root.Write(HostPaths.RegistriesConf, "ours\n");
        _root.Write(Ca, "ours\n");
        _watcher.Arm().Should().BeTrue();

        AtomicFile.Write(_paths.Resolve(HostPaths.RegistriesConf), "ours again\n"u8);
        File.AppendAllText(_paths.Resolve(Ca), "theirs\n");
        var changed = await ChangedAsync(seen => seen.Count >= 2);

        changed.Should().BeEquivalentTo([HostPaths.RegistriesConf, Ca]);
        _failures.Should().BeEmpty();
    }

    [Fact]
    public async Task A_tree_deleted_and_made_again_is_watched_anew()
    {
        _root.Write(Ca, "ours\n");
        _watcher.Arm().Should().BeTrue("etc/docker/certs.d exists; etc/containers does not yet");
        _watcher.Arm().Should().BeFalse("nothing new to watch");

        Directory.Delete(_paths.Resolve("etc/docker"), recursive: true);
        await ChangedAsync(seen => seen.Contains(Ca));
        _root.Write(Ca, "made again\n");
        _watcher.Arm().Should().BeTrue("the old watch ended with its directory");

        File.AppendAllText(_paths.Resolve(Ca), "theirs\n");
        await ChangedAsync(seen => seen.Contains(Ca));
    }

    [Fact]
    public async Task A_tree_that_appears_later_is_watched_from_the_next_arm()
    {
        _watcher.Arm().Should().BeFalse("no tree exists yet");
        _root.Write(HostPaths.PolicyJson, "{}\n");
        _watcher.Arm().Should().BeTrue();
        _root.Write(HostPaths.SearchDropIn, "theirs\n");
        await ChangedAsync(seen => seen.Any(p => p.StartsWith("etc/containers/registries.conf.d", StringComparison.Ordinal)));
    }

    // Waits (with a deadline) until the paths reported are enough, and returns them.
    private async Task<List<string>> ChangedAsync(Func<HashSet<string>, bool> enough)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!enough(seen))
        {
            await _watcher.Changes.WaitToReadAsync(deadline.Token);
            _watcher.Changes.TryRead(out _);
            var (changed, lost) = _watcher.Take();
            lost.Should().BeFalse();
            seen.UnionWith(changed);
        }
        return [.. seen];
    }
}
