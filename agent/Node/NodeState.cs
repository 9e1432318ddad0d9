using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeAgent.Node;

/// <summary>
/// What node-agent owns on this host, kept in <c>var/lib/node-agent/state.json</c>: for each file
/// it manages, whether a foreign original was kept, and whether a last-known-good copy exists.
/// </summary>
public sealed class NodeState
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;

    [JsonPropertyName("files")] public SortedDictionary<string, ManagedFile> Files { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Directories node-agent created (relative to the root); removed only when they end up empty.</summary>
    [JsonPropertyName("createdDirectories")] public SortedSet<string> CreatedDirectories { get; set; } = new(StringComparer.Ordinal);
}

public sealed class ManagedFile
{
    /// <summary>True when a foreign file was there first; its copy is under <c>originals/</c>.</summary>
    [JsonPropertyName("originalSaved")] public bool OriginalSaved { get; set; }

    /// <summary>The kept original's permission bits, so it comes back as it was (not as 0644).</summary>
    [JsonPropertyName("originalMode")] public int? OriginalMode { get; set; }

    /// <summary>Null until an apply succeeded; then whether the good state had the file at all.</summary>
    [JsonPropertyName("lastGoodPresent")] public bool? LastGoodPresent { get; set; }

    /// <summary>
    /// SHA-256 of what node-agent last wrote (or last put back in a rollback), to tell its own
    /// content from someone else's. Null while node-agent has no content of its own there: not
    /// written yet, or removed by a rollback.
    /// </summary>
    [JsonPropertyName("writtenSha256")] public string? WrittenSha256 { get; set; }

    /// <summary>
    /// SHA-256 of the content being written, recorded before the write and cleared after it, so
    /// content written just before a crash is still known as node-agent's own and not taken for drift.
    /// </summary>
    [JsonPropertyName("pendingSha256")] public string? PendingSha256 { get; set; }

    /// <summary>True when <paramref name="sha256"/> (null: no file) is content node-agent wrote or was writing.</summary>
    public bool IsOwnContent(string? sha256) => sha256 is not null && (sha256 == WrittenSha256 || sha256 == PendingSha256);

    /// <summary>
    /// Whether a file with <paramref name="sha256"/> (null: no file) has drifted: node-agent knows
    /// what it wrote there, and this is something else (edited, replaced or deleted by someone else).
    /// </summary>
    public bool HasDrifted(string? sha256) => WrittenSha256 is not null && !IsOwnContent(sha256);
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(NodeState))]
internal sealed partial class NodeStateJsonContext : JsonSerializerContext;

/// <summary>Loads and saves <see cref="NodeState"/> and the copies it refers to, atomically.</summary>
public sealed class StateStore(HostPaths paths)
{
    private static readonly string StateFile = HostPaths.State("state.json");

    public HostPaths Paths { get; } = paths;

    public NodeState Load()
    {
        var bytes = SafePath.Read(Paths, StateFile);
        if (bytes is null)
        {
            return new NodeState();
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, NodeStateJsonContext.Default.NodeState) ?? new NodeState();
        }
        catch (JsonException e)
        {
            throw new IOException($"{Paths.Resolve(StateFile)} is corrupt ({e.Message}); move it aside to start over", e);
        }
    }

    public void Save(NodeState state)
    {
        SafePath.Check(Paths, StateFile);
        AtomicFile.Write(Paths.Resolve(StateFile), JsonSerializer.SerializeToUtf8Bytes(state, NodeStateJsonContext.Default.NodeState),
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public static string OriginalCopy(string relative) => HostPaths.State("originals", relative);

    public static string LastGoodCopy(string relative) => HostPaths.State("last-good", relative);

    public byte[]? ReadCopy(string copy) => SafePath.Read(Paths, copy);

    public void WriteCopy(string copy, byte[] content)
    {
        SafePath.Check(Paths, copy);
        AtomicFile.Write(Paths.Resolve(copy), content, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void DeleteCopy(string copy)
    {
        SafePath.Check(Paths, copy);
        var path = Paths.Resolve(copy);
        if (File.Exists(path))
        {
            AtomicFile.Delete(path);
        }
    }
}
