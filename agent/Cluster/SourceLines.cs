using System.Text.Json.Nodes;

namespace NodeAgent.Cluster;

/// <summary>
/// Where the parts of a parsed document were written: the line of each mapping key and of each
/// container. Filled while reading, so a problem found later (an unknown field, a value of the
/// wrong type) names the line it is on instead of the line the document starts on. Nodes copied
/// from an alias are not recorded; a lookup then falls back to the nearest recorded ancestor.
/// </summary>
public sealed class SourceLines
{
    private readonly Dictionary<JsonObject, Dictionary<string, int>> _keys = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<JsonNode, int> _containers = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<JsonArray, List<int>> _items = new(ReferenceEqualityComparer.Instance);

    /// <summary>A document whose lines are unknown: every lookup answers the fallback.</summary>
    public static readonly SourceLines None = new();

    public void AddKey(JsonObject parent, string key, int line)
    {
        if (!_keys.TryGetValue(parent, out var lines))
        {
            lines = new Dictionary<string, int>(StringComparer.Ordinal);
            _keys[parent] = lines;
        }
        lines[key] = line;
    }

    public void AddContainer(JsonNode container, int line) => _containers[container] = line;

    /// <summary>Records the line of the next item of <paramref name="array"/>; items are added in order.</summary>
    public void AddItem(JsonArray array, int line)
    {
        if (!_items.TryGetValue(array, out var lines))
        {
            lines = [];
            _items[array] = lines;
        }
        lines.Add(line);
    }

    /// <summary>The line of item <paramref name="index"/> of <paramref name="array"/>, else of the list itself.</summary>
    public int? ItemLine(JsonArray array, int index) =>
        _items.TryGetValue(array, out var lines) && index < lines.Count ? lines[index] : ContainerLine(array);

    /// <summary>The line of <paramref name="key"/> in <paramref name="parent"/>, else of the parent itself.</summary>
    public int? KeyLine(JsonObject parent, string key) =>
        _keys.TryGetValue(parent, out var lines) && lines.TryGetValue(key, out var line) ? line : ContainerLine(parent);

    public int? ContainerLine(JsonNode node) => _containers.TryGetValue(node, out var line) ? line : null;
}
