using System.Security.Cryptography;

namespace NodeAgent.Node;

/// <summary>A file as rendered: its bytes, or null when node-agent should not have it on disk.</summary>
public sealed record DesiredFile(string Path, byte[]? Content);

/// <summary>One planned change of one file below the root.</summary>
public sealed record FileChange(string Path, byte[]? Before, byte[]? After, bool Release)
{
    public bool Creates => Before is null && After is not null;
    public bool Removes => Before is not null && After is null;

    /// <summary>
    /// The file is not what node-agent last wrote there: someone else edited, replaced or deleted
    /// it. <see cref="Before"/> is their content.
    /// </summary>
    public bool Drifted { get; init; }

    /// <summary>For a drifted file, what node-agent last wrote there, when it still has those bytes.</summary>
    public byte[]? Ours { get; init; }

    /// <summary>A drifted file whose rendered content is what node-agent wrote before: writing it only undoes someone else's change.</summary>
    public bool RestoresOnly => Drifted && !Release && Ours is { } ours && After is { } after && ours.AsSpan().SequenceEqual(after);
}

/// <summary>
/// Plans and applies file changes with ownership: a foreign file is copied aside the first time
/// node-agent replaces it and put back when node-agent stops managing it; only files node-agent
/// manages are ever removed; the content of the last successful apply is kept as last-known-good.
/// </summary>
public sealed class FileApplier(StateStore store)
{
    private readonly HostPaths _paths = store.Paths;

    /// <summary>
    /// The changes needed to reach <paramref name="desired"/>, in order; unchanged files are left
    /// out. Each change to a file node-agent manages says whether the file drifted.
    /// </summary>
    public IReadOnlyList<FileChange> Plan(IReadOnlyList<DesiredFile> desired, NodeState state)
    {
        var changes = new List<FileChange>();
        foreach (var file in desired)
        {
            var current = SafePath.Read(_paths, file.Path);
            state.Files.TryGetValue(file.Path, out var managed);
            if (file.Content is not null)
            {
                if (!SameBytes(current, file.Content))
                {
                    changes.Add(Drift(new FileChange(file.Path, current, file.Content, Release: false), managed, file.Content));
                }
                continue;
            }
            if (managed is null)
            {
                continue; // Not ours: never removed.
            }
            var original = managed.OriginalSaved ? store.ReadCopy(StateStore.OriginalCopy(file.Path)) : null;
            var release = Drift(new FileChange(file.Path, current, original, Release: true), managed, null);
            // Content someone else put there after node-agent is theirs: letting go of the file
            // leaves it as it is rather than putting back an older original over it. A file that
            // already holds the original (a release interrupted before its records) is no drift.
            if (release.Drifted && !SameBytes(current, original))
            {
                changes.Add(release with { After = current });
            }
            else
            {
                changes.Add(release with { After = SameBytes(current, original) ? current : original, Drifted = false, Ours = null });
            }
        }
        return changes;
    }

    /// <summary>
    /// Finishes the records of writes a crash cut short: a file that holds the content recorded as
    /// pending was written, one that does not was not. Before this, a new pending hash would
    /// overwrite the one that tells node-agent's last bytes from someone else's. Returns whether a
    /// record changed.
    /// </summary>
    public bool Recover(NodeState state)
    {
        var changed = false;
        foreach (var (path, managed) in state.Files.Where(f => f.Value.PendingSha256 is not null))
        {
            byte[]? current;
            try
            {
                current = SafePath.Read(_paths, path);
            }
            catch (IOException)
            {
                continue; // A link or a directory there: the pass reports it if it needs the file.
            }
            if (Sha256(current) == managed.PendingSha256)
            {
                managed.WrittenSha256 = managed.PendingSha256;
            }
            managed.PendingSha256 = null;
            changed = true;
        }
        return changed;
    }

    /// <summary>
    /// Brings node-agent's records in line with files that already hold the rendered bytes: the
    /// hash of what it wrote (after a write whose records a crash cut short, or content someone
    /// else wrote that happens to be node-agent's). Returns whether a record changed.
    /// </summary>
    public static bool Settle(IReadOnlyList<DesiredFile> desired, IReadOnlyList<FileChange> changes, NodeState state)
    {
        var settled = false;
        foreach (var file in desired)
        {
            if (file.Content is null || !state.Files.TryGetValue(file.Path, out var managed) || changes.Any(c => c.Path == file.Path))
            {
                continue;
            }
            var sha256 = Sha256(file.Content);
            if (managed.WrittenSha256 != sha256 || managed.PendingSha256 is not null)
            {
                managed.WrittenSha256 = sha256;
                managed.PendingSha256 = null;
                settled = true;
            }
        }
        return settled;
    }

    /// <summary>SHA-256 of <paramref name="content"/> in lower-case hex, as node-agent records it; null for no file.</summary>
    public static string? Sha256(byte[]? content) =>
        content is null ? null : Convert.ToHexStringLower(SHA256.HashData(content));

    // Marks a change to a managed file whose bytes are not what node-agent last wrote, and keeps
    // node-agent's own bytes for the report when they are at hand (the render or last-known-good).
    private FileChange Drift(FileChange change, ManagedFile? managed, byte[]? rendered)
    {
        if (managed is null || !managed.HasDrifted(Sha256(change.Before)))
        {
            return change;
        }
        var ours = rendered is not null && Sha256(rendered) == managed.WrittenSha256
            ? rendered
            : store.ReadCopy(StateStore.LastGoodCopy(change.Path)) is { } good && Sha256(good) == managed.WrittenSha256 ? good : null;
        return change with { Drifted = true, Ours = ours };
    }

    /// <summary>
    /// Applies the changes in order. Everything is recorded before the first write: ownership, so
    /// a crash can never make node-agent mistake its own content for a foreign original, and the
    /// hash each write leaves, so a file written just before a crash is not taken for drift.
    /// </summary>
    /// <returns>The files taken over from someone else, whose originals were kept.</returns>
    public IReadOnlyList<string> Apply(IReadOnlyList<FileChange> changes, NodeState state)
    {
        var takenOver = new List<string>();
        foreach (var change in changes.Where(c => !c.Release))
        {
            if (!state.Files.TryGetValue(change.Path, out var managed))
            {
                if (change.Before is not null)
                {
                    store.WriteCopy(StateStore.OriginalCopy(change.Path), change.Before);
                    takenOver.Add(change.Path);
                }
                managed = new ManagedFile
                {
                    OriginalSaved = change.Before is not null,
                    OriginalMode = change.Before is null ? null : (int)File.GetUnixFileMode(_paths.Resolve(change.Path)),
                };
                state.Files[change.Path] = managed;
                RecordCreatedDirectories(change.Path, state);
            }
            managed.PendingSha256 = Sha256(change.After);
        }
        store.Save(state);
        foreach (var change in changes)
        {
            var restoring = change.Release && state.Files.TryGetValue(change.Path, out var released) && released.OriginalMode is { } mode
                ? (UnixFileMode)mode
                : AtomicFile.FileMode0644;
            WriteOrRemove(change.Path, change.After, restoring);
            if (state.Files.TryGetValue(change.Path, out var managed) && !change.Release)
            {
                managed.WrittenSha256 = managed.PendingSha256;
                managed.PendingSha256 = null;
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
        // Reverse order undoes registries.conf before the files it may depend on.
        var targets = changes.Reverse().Select(change =>
        {
            var target = change.Before;
            if (state.Files.TryGetValue(change.Path, out var managed) && managed.LastGoodPresent is { } present)
            {
                target = present ? store.ReadCopy(StateStore.LastGoodCopy(change.Path)) : null;
            }
            return (change.Path, Target: target, Managed: managed);
        }).ToList();
        // As in Apply, what the rollback writes is recorded first, so a crash in the middle is not
        // taken for drift; a file about to be removed gives up node-agent's claim on its content.
        foreach (var (_, target, managed) in targets.Where(t => t.Managed is not null))
        {
            managed!.PendingSha256 = Sha256(target);
            if (target is null)
            {
                managed.WrittenSha256 = null;
            }
        }
        store.Save(state);
        var restored = new List<string>();
        foreach (var (path, target, managed) in targets)
        {
            if (!SameBytes(SafePath.Read(_paths, path), target))
            {
                WriteOrRemove(path, target);
                restored.Add(path);
            }
            if (managed is not null)
            {
                managed.WrittenSha256 = Sha256(target);
                managed.PendingSha256 = null;
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
}
