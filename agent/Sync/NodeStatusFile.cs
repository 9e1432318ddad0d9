using System.Text.Json;
using NodeAgent.Node;

namespace NodeAgent.Sync;

/// <summary>
/// <c>var/lib/node-agent/status.json</c>: the last pass's <see cref="NodeStatus"/>, written
/// atomically after every pass that reached the node, read by <c>node-agent status</c>.
/// </summary>
public sealed class NodeStatusFile(HostPaths paths)
{
    public static readonly string RelativePath = HostPaths.State("status.json");

    /// <summary>The last status written, or null when there is none (or it does not parse: it is only a report).</summary>
    public NodeStatus? Read()
    {
        var bytes = SafePath.Read(paths, RelativePath);
        if (bytes is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, NodeStatusJsonContext.Default.NodeStatus);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(NodeStatus status)
    {
        SafePath.Check(paths, RelativePath);
        AtomicFile.CreateDirectory(Path.GetDirectoryName(paths.Resolve(RelativePath))!);
        AtomicFile.Write(paths.Resolve(RelativePath), JsonSerializer.SerializeToUtf8Bytes(status, NodeStatusJsonContext.Default.NodeStatus));
    }
}
