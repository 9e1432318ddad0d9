using System.Threading.Channels;

namespace NodeAgent.Node;

/// <summary>
/// Tells the daemon which paths changed below the trees node-agent writes to
/// (<see cref="HostPaths.WrittenTrees"/>), through inotify (<see cref="FileSystemWatcher"/>): no
/// polling, and nothing at all while no file changes. Each tree costs one inotify instance and one
/// thread, which is why whole trees are watched rather than each CA directory. node-agent's own
/// temp files are ignored here; whether a change is node-agent's own write or someone else's is
/// decided by comparing the bytes with its records (<see cref="DriftCheck"/>).
/// <para>
/// Lost events (the kernel queue overflowed, a watch failed) are reported as such, so the caller
/// checks every file. A tree whose files were deleted may have been deleted itself, which ends
/// its inotify watch without a word; it is watched anew on the next <see cref="Arm"/>.
/// </para>
/// </summary>
public sealed class ManagedFileWatcher(HostPaths paths, IReadOnlyList<string> trees, Action<string> failed) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _stale = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private bool _lost;
    private string? _lastArmError;

    /// <summary>Readable once something changed since the last <see cref="Take"/>; one item however many events.</summary>
    public ChannelReader<bool> Changes => _signal.Reader;

    /// <summary>The trees watched, relative to the root, for the start-up log line.</summary>
    public IReadOnlyList<string> Trees => trees;

    /// <summary>
    /// Watches every tree that exists and is not watched, or whose watch may have ended. True when
    /// a watch started: changes made before it went unseen, so every file needs a look.
    /// </summary>
    public bool Arm()
    {
        var started = false;
        foreach (var tree in trees)
        {
            lock (_gate)
            {
                if (_stale.Remove(tree) && _watchers.Remove(tree, out var old))
                {
                    old.Dispose();
                }
                if (_watchers.ContainsKey(tree))
                {
                    continue;
                }
            }
            var directory = paths.Resolve(tree);
            if (!Directory.Exists(directory))
            {
                continue;
            }
            try
            {
                var watcher = Start(tree, directory);
                lock (_gate)
                {
                    _watchers[tree] = watcher;
                }
                started = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // inotify limits reached, say: the daemon still applies every API change, and tries
                // again after its next pass. Said once per distinct problem.
                var message = $"cannot watch {directory}: {e.Message}";
                if (message != _lastArmError)
                {
                    _lastArmError = message;
                    failed(message);
                }
            }
        }
        return started;
    }

    /// <summary>The paths (files or directories, relative to the root) changed since the last call, and whether events were lost.</summary>
    public (IReadOnlyCollection<string> Changed, bool Lost) Take()
    {
        lock (_gate)
        {
            var changed = _changed.ToList();
            var lost = _lost;
            _changed.Clear();
            _lost = false;
            return (changed, lost);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers.Values)
            {
                watcher.Dispose();
            }
            _watchers.Clear();
        }
    }

    private FileSystemWatcher Start(string tree, string directory)
    {
        var watcher = new FileSystemWatcher(directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        watcher.Created += (_, e) => Changed(e.FullPath);
        watcher.Changed += (_, e) => Changed(e.FullPath);
        watcher.Deleted += (_, e) => Changed(e.FullPath, tree);
        watcher.Renamed += (_, e) =>
        {
            // node-agent's own atomic write renames a temp file over the target: only the target counts.
            Changed(e.FullPath);
            Changed(e.OldFullPath, tree);
        };
        watcher.Error += (_, e) =>
        {
            lock (_gate)
            {
                _lost = true;
                _stale.Add(tree);
            }
            _signal.Writer.TryWrite(true);
            failed($"{directory}: {e.GetException().Message}");
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    // A path gone from a tree (deleted or renamed away) may be the tree itself going; its watch
    // is then renewed on the next Arm.
    private void Changed(string fullPath, string? goneFrom = null)
    {
        if (Path.GetFileName(fullPath).Contains(AtomicFile.TempMarker, StringComparison.Ordinal))
        {
            return;
        }
        var relative = Path.GetRelativePath(paths.Root, fullPath);
        lock (_gate)
        {
            _changed.Add(relative);
            if (goneFrom is not null)
            {
                _stale.Add(goneFrom);
            }
        }
        _signal.Writer.TryWrite(true);
    }
}
