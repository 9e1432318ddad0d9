using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using NodeAgent.Resources;

namespace NodeAgent.Cluster;

/// <summary>The kinds node-agent reads, told apart by API group and kind.</summary>
public enum WatchedKind
{
    Image,
    ClusterVersion,
    ImageContentSourcePolicy,
    ImageDigestMirrorSet,
    ImageTagMirrorSet,
    ConfigMap,
}

/// <summary>
/// Turns a JSON object into a typed watched object, or says why not, naming the field and value.
/// Shared by manifest loading and (later) the API watch, so both read objects the same way.
/// </summary>
public static partial class ObjectDecoder
{
    /// <summary>
    /// Items of a typed list (<c>ImageDigestMirrorSetList</c>, as the API server returns it) may
    /// leave out apiVersion and kind; like apimachinery, they take them from the list. Items of a
    /// plain <c>List</c> must name their own type.
    /// </summary>
    public static void TakeTypeFromList(JsonObject item, string? listApiVersion, string? listKind)
    {
        if (listKind is null || listKind == "List" || !listKind.EndsWith("List", StringComparison.Ordinal))
        {
            return;
        }
        if (item["kind"] is null)
        {
            item["kind"] = listKind[..^"List".Length];
        }
        if (item["apiVersion"] is null && listApiVersion is not null)
        {
            item["apiVersion"] = listApiVersion;
        }
    }

    /// <summary>Decodes <paramref name="node"/> as <paramref name="kind"/>; throws <see cref="ObjectDecodeException"/>.</summary>
    public static KubeObject Decode(WatchedKind kind, JsonObject node) => kind switch
    {
        WatchedKind.Image => Decode(node, ResourceJsonContext.Default.ImageConfig),
        WatchedKind.ClusterVersion => Decode(node, ResourceJsonContext.Default.ClusterVersion),
        WatchedKind.ImageContentSourcePolicy => Decode(node, ResourceJsonContext.Default.ImageContentSourcePolicy),
        WatchedKind.ImageDigestMirrorSet => Decode(node, ResourceJsonContext.Default.ImageDigestMirrorSet),
        WatchedKind.ImageTagMirrorSet => Decode(node, ResourceJsonContext.Default.ImageTagMirrorSet),
        WatchedKind.ConfigMap => Decode(node, ResourceJsonContext.Default.ConfigMap),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static T Decode<T>(JsonObject node, JsonTypeInfo<T> typeInfo)
        where T : KubeObject
    {
        try
        {
            return node.Deserialize(typeInfo) ?? throw new ObjectDecodeException("", "the object is null");
        }
        catch (JsonException e)
        {
            var path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            var actual = Describe(Find(node, path));
            throw new ObjectDecodeException(path, $"expected {Describe(ExpectedType(typeInfo, path))}, got {actual}");
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses strings that are not valid UTF-16, such as a lone "\ud800".
            throw new ObjectDecodeException("", "a string in the object is not valid Unicode text (a lone surrogate escape)");
        }
    }

    // Follows the path through the generated metadata to the declared type of the field, since
    // System.Text.Json's message names the containing type for a scalar property.
    private static Type? ExpectedType(JsonTypeInfo root, string path)
    {
        Type? type = root.Type;
        foreach (Match step in PathStep().Matches(path))
        {
            if (type is null)
            {
                return null;
            }
            if (step.Groups["index"].Success)
            {
                type = ElementType(type);
                continue;
            }
            var name = step.Groups["quoted"].Success ? step.Groups["quoted"].Value : step.Groups["name"].Value;
            var info = ResourceJsonContext.Default.GetTypeInfo(type);
            var property = info?.Properties.FirstOrDefault(p => p.Name == name);
            type = property?.PropertyType ?? (info?.Kind == JsonTypeInfoKind.Dictionary ? ElementType(type) : null);
        }
        return type;
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        var arguments = type.IsGenericType ? type.GetGenericArguments() : [];
        return arguments.Length > 0 ? arguments[^1] : null;
    }

    private static string Describe(Type? type)
    {
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            null => "a value of another type",
            _ when type == typeof(string) => "a string",
            _ when type == typeof(byte[]) => "base64 data",
            _ when type == typeof(long) || type == typeof(int) => "an integer",
            _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) =>
                ElementType(type) == typeof(byte[]) ? "a map of base64 data" : "a map of strings",
            _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) => "a list",
            _ => "an object",
        };
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue value when value.TryGetValue<string>(out var s) => $"the string {Truncate(s)}",
        // Numbers and booleans as written: 1.5, true.
        _ => node.ToJsonString() is var json && json.Length > 80 ? json[..80] + "…" : node.ToJsonString(),
    };

    private static string Truncate(string s) =>
        Rendering.GoQuote.Quote(s.Length > 80 ? s[..80] + "…" : s);

    /// <summary>
    /// The line of the field at <paramref name="path"/> (System.Text.Json's path syntax), else of
    /// the nearest enclosing field whose line is known.
    /// </summary>
    public static int? LineOf(JsonObject root, string path, SourceLines lines) => Walk(root, path, lines).Line;

    private static JsonNode? Find(JsonNode? node, string path) => Walk(node, path, SourceLines.None).Node;

    // Walks "spec.imageDigestMirrors[0].source" through the node: the node found (null when the
    // path leaves the tree) and the line of the deepest step that has one.
    private static (JsonNode? Node, int? Line) Walk(JsonNode? node, string path, SourceLines lines)
    {
        var line = node is null ? null : lines.ContainerLine(node);
        foreach (Match step in PathStep().Matches(path))
        {
            if (step.Groups["index"].Success)
            {
                var index = int.Parse(step.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (node is not JsonArray array || index >= array.Count)
                {
                    return (null, line);
                }
                line = lines.ItemLine(array, index) ?? line;
                node = array[index];
            }
            else
            {
                var name = step.Groups["quoted"].Success ? step.Groups["quoted"].Value : step.Groups["name"].Value;
                if (node is not JsonObject obj || !obj.TryGetPropertyValue(name, out var child))
                {
                    return (null, line);
                }
                line = lines.KeyLine(obj, name) ?? line;
                node = child;
            }
        }
        return (node, line);
    }

    // Steps: [0], ['key'] (System.Text.Json), ["key"] (the renderer's field paths), name.
    [GeneratedRegex("\\[(?<index>[0-9]+)\\]|\\['(?<quoted>[^']*)'\\]|\\[\"(?<quoted>[^\"]*)\"\\]|(?<name>[^.\\[]+)", RegexOptions.CultureInvariant)]
    private static partial Regex PathStep();
}

/// <summary>A field of an object has the wrong shape.</summary>
public sealed class ObjectDecodeException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
