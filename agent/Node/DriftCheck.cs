namespace NodeAgent.Node;

/// <summary>
/// Which managed files no longer hold what node-agent wrote: a cheap look between passes, to tell
/// someone else's change from node-agent's own writes without a pass. It takes no lock, so it
/// reads the records before and after the files: a write by another node-agent process (a
/// <c>--once</c> next to the daemon) is then always among its records, as it records the hash
/// before it writes. The pass that follows decides for good, under the lock.
/// </summary>
public static class DriftCheck
{
    /// <summary>
    /// The managed files at or below <paramref name="changed"/> (every managed file when null) whose
    /// bytes are not node-agent's, leaving out those <paramref name="skip"/> names.
    /// </summary>
    public static IReadOnlyList<string> Drifted(StateStore store, IReadOnlyCollection<string>? changed, Func<string, bool> skip)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(skip);
        var before = store.Load();
        var candidates = before.Files
            .Where(f => f.Value.WrittenSha256 is not null && !skip(f.Key) && (changed is null || changed.Any(c => Covers(c, f.Key))))
            .Select(f => f.Key)
            .ToList();
        if (candidates.Count == 0)
        {
            return [];
        }
        var found = candidates.ToDictionary(p => p, p => Sha256(store.Paths, p), StringComparer.Ordinal);
        var after = store.Load();
        return candidates.Where(p => Drifted(before, p, found[p]) && Drifted(after, p, found[p])).ToList();
    }

    private static bool Covers(string changed, string managed) =>
        changed == managed || managed.StartsWith(changed + "/", StringComparison.Ordinal);

    private static bool Drifted(NodeState state, string path, string? sha256) =>
        state.Files.TryGetValue(path, out var managed) && managed.HasDrifted(sha256);

    // A file that cannot be read as a plain file (a link or a directory put in its place) counts
    // as drifted: the pass reports what is wrong with it.
    private static string? Sha256(HostPaths paths, string relative)
    {
        try
        {
            return FileApplier.Sha256(SafePath.Read(paths, relative));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }
    }
}
