using System.Security.Cryptography;

namespace NodeAgent.Node;

/// <summary>A file as rendered: its bytes, or null when node-agent should not have it on disk.</summary>
public sealed record DesiredFile(string Path, byte[]? Content);

/// <summary>One planned change of one file below the root.</summary>
public sealed record FileChange(string Path, byte[]? Before, byte[]? After, bool Release)
{
    public bool Creates => Before is null && After is not null;
    public bool Removes => Before is not null && After is null;
}

/// <summary>
/// Plans and applies file changes with ownership: a foreign file is copied aside the first time
/// node-agent replaces it and put back when node-agent stops managing it; only files node-agent
/// manages are ever removed; the content of the last successful apply is kept as last-known-good.
/// </summary>
public sealed class FileApplier(StateStore store)
{
    private readonly HostPaths _paths = store.Paths;

    /// <summary>The changes needed to reach <paramref name="desired"/>, in order; unchanged files are left out.</summary>
    public IReadOnlyList<FileChange> Plan(IReadOnlyList<DesiredFile> desired, NodeState state)
    {
        var changes = new List<FileChange>();
        foreach (var file in desired)
        {
            var current = SafePath.Read(_paths, file.Path);
            if (file.Content is not null)
            {
                if (current is null || !current.AsSpan().SequenceEqual(file.Content))
                {
                    changes.Add(new FileChange(file.Path, current, file.Content, Release: false));
                }
                continue;
            }
            if (!state.Files.TryGetValue(file.Path, out var managed))
            {
                continue; // Not ours: never removed.
            }
            var original = managed.OriginalSaved ? store.ReadCopy(StateStore.OriginalCopy(file.Path)) : null;
            if (!SameBytes(current, original))
            {
                changes.Add(new FileChange(file.Path, current, original, Release: true));
            }
            else
            {
                changes.Add(new FileChange(file.Path, current, current, Release: true));
            }
        }
        return changes;
    }

    /// <summary>
    /// Applies the changes in order. Ownership is recorded before each write, so a crash between
    /// the two can never make node-agent mistake its own content for a foreign original.
    /// </summary>
    /// <returns>The files taken over from someone else, whose originals were kept.</returns>
    public IReadOnlyList<string> Apply(IReadOnlyList<FileChange> changes, NodeState state)
    {
        var takenOver = new List<string>();
        foreach (var change in changes)
        {
            if (!change.Release && !state.Files.ContainsKey(change.Path))
            {
                if (change.Before is not null)
                {
                    store.WriteCopy(StateStore.OriginalCopy(change.Path), change.Before);
                    takenOver.Add(change.Path);
                }
                state.Files[change.Path] = new ManagedFile
                {
                    OriginalSaved = change.Before is not null,
                    OriginalMode = change.Before is null ? null : (int)File.GetUnixFileMode(_paths.Resolve(change.Path)),
                };
                RecordCreatedDirectories(change.Path, state);
                store.Save(state);
            }
            var restoring = change.Release && state.Files.TryGetValue(change.Path, out var released) && released.OriginalMode is { } mode
                ? (UnixFileMode)mode
                : AtomicFile.FileMode0644;
            WriteOrRemove(change.Path, change.After, restoring);
            if (state.Files.TryGetValue(change.Path, out var managed) && !change.Release)
            {
                managed.WrittenSha256 = Sha256(change.After);
            }
        }
        store.Save(state);
        return takenOver;
    }

    /// <summary>Records the applied content as last-known-good and lets go of released files.</summary>
    public void MarkGood(IReadOnlyList<FileChange> changes, NodeState state)
    {
        foreach (var change in changes)
        {
            if (!state.Files.TryGetValue(change.Path, out var managed))
            {
                continue;
            }
            if (change.Release)
            {
                store.DeleteCopy(StateStore.OriginalCopy(change.Path));
                store.DeleteCopy(StateStore.LastGoodCopy(change.Path));
                state.Files.Remove(change.Path);
                RemoveEmptyCreatedDirectories(change.Path, state);
                continue;
            }
            if (change.After is null)
            {
                store.DeleteCopy(StateStore.LastGoodCopy(change.Path));
            }
            else
            {
                store.WriteCopy(StateStore.LastGoodCopy(change.Path), change.After);
            }
            managed.LastGoodPresent = change.After is not null;
        }
        store.Save(state);
    }

    /// <summary>
    /// Puts every changed file back to its last-known-good content, or, before any success, to
    /// what was there before. Returns the paths restored.
    /// </summary>
    public IReadOnlyList<string> RollBack(IReadOnlyList<FileChange> changes, NodeState state)
    {
        var restored = new List<string>();
        // Reverse order undoes registries.conf before the files it may depend on.
        foreach (var change in changes.Reverse())
        {
            var target = change.Before;
            if (state.Files.TryGetValue(change.Path, out var managed) && managed.LastGoodPresent is { } present)
            {
                target = present ? store.ReadCopy(StateStore.LastGoodCopy(change.Path)) : null;
            }
            if (!SameBytes(SafePath.Read(_paths, change.Path), target))
            {
                WriteOrRemove(change.Path, target);
                restored.Add(change.Path);
            }
            if (managed is not null)
            {
                managed.WrittenSha256 = Sha256(target);
            }
        }
        store.Save(state);
        return restored;
    }

    // The directories above a new file that do not exist yet are node-agent's, from the file up to
    // the first one that exists; they are recorded before the write creates them.
    private void RecordCreatedDirectories(string relative, NodeState state)
    {
        for (var directory = Parent(relative); directory.Length > 0 && !Path.Exists(_paths.Resolve(directory)); directory = Parent(directory))
        {
            state.CreatedDirectories.Add(directory);
        }
    }

    // Removes the directories node-agent created above a released file, deepest first, while empty.
    private void RemoveEmptyCreatedDirectories(string relative, NodeState state)
    {
        for (var directory = Parent(relative); state.CreatedDirectories.Contains(directory); directory = Parent(directory))
        {
            var path = _paths.Resolve(directory);
            if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
            {
                return;
            }
            if (Directory.Exists(path))
            {
                Directory.Delete(path);
                AtomicFile.SyncDirectory(Path.GetDirectoryName(path)!);
            }
            state.CreatedDirectories.Remove(directory);
        }
    }

    private static string Parent(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    private void WriteOrRemove(string relative, byte[]? content, UnixFileMode mode = AtomicFile.FileMode0644)
    {
        SafePath.Check(_paths, relative);
        var path = _paths.Resolve(relative);
        if (content is not null)
        {
            AtomicFile.Write(path, content, mode);
        }
        else if (File.Exists(path))
        {
            AtomicFile.Delete(path);
        }
    }

    private static bool SameBytes(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static string? Sha256(byte[]? content) =>
        content is null ? null : Convert.ToHexStringLower(SHA256.HashData(content));
}
