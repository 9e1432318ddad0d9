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
    private const string ConfigGroup = "config.openshift.io";
    private const string OperatorGroup = "operator.openshift.io";

    /// <summary>The watched kind of an object from its apiVersion (any version of the group) and kind.</summary>
    public static WatchedKind? Classify(string? apiVersion, string? kind)
    {
        var slash = apiVersion?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        var group = slash < 0 ? "" : apiVersion![..slash];
        return (group, kind) switch
        {
            (ConfigGroup, "Image") => WatchedKind.Image,
            (ConfigGroup, "ClusterVersion") => WatchedKind.ClusterVersion,
            (ConfigGroup, "ImageDigestMirrorSet") => WatchedKind.ImageDigestMirrorSet,
            (ConfigGroup, "ImageTagMirrorSet") => WatchedKind.ImageTagMirrorSet,
            (OperatorGroup, "ImageContentSourcePolicy") => WatchedKind.ImageContentSourcePolicy,
            ("", "ConfigMap") => WatchedKind.ConfigMap,
            _ => null,
        };
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
            throw new ObjectDecodeException(path, $"expected {Expected(e.Message)}, got {actual}");
        }
    }

    private static string Expected(string message)
    {
        var match = TargetType().Match(message);
        var type = match.Success ? match.Groups[1].Value : "";
        return type switch
        {
            _ when type.Contains("IReadOnlyList", StringComparison.Ordinal) => "a list",
            _ when type.Contains("Dictionary", StringComparison.Ordinal) => "a map of strings",
            _ when type.Contains("Byte[]", StringComparison.Ordinal) => "base64 data",
            _ when type.Contains("String", StringComparison.Ordinal) => "a string",
            _ when type.Contains("Int64", StringComparison.Ordinal) => "an integer",
            _ => "an object",
        };
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "a list",
        JsonValue value when value.TryGetValue<string>(out var s) => $"the string {Truncate(s)}",
        _ => Truncate(node.ToJsonString()),
    };

    private static string Truncate(string s) =>
        Rendering.GoQuote.Quote(s.Length > 80 ? s[..80] + "…" : s);

    // Walks "spec.imageDigestMirrors[0].source" (System.Text.Json's path syntax) through the node.
    private static JsonNode? Find(JsonNode? node, string path)
    {
        foreach (Match step in PathStep().Matches(path))
        {
            if (step.Groups["index"].Success)
            {
                var index = int.Parse(step.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
                node = node is JsonArray array && index < array.Count ? array[index] : null;
            }
            else
            {
                var name = step.Groups["quoted"].Success ? step.Groups["quoted"].Value : step.Groups["name"].Value;
                node = node is JsonObject obj && obj.TryGetPropertyValue(name, out var child) ? child : null;
            }
        }
        return node;
    }

    [GeneratedRegex("converted to ([^ ]+?)\\.(?: |$)", RegexOptions.CultureInvariant)]
    private static partial Regex TargetType();

    [GeneratedRegex("\\[(?<index>[0-9]+)\\]|\\['(?<quoted>[^']*)'\\]|(?<name>[^.\\[]+)", RegexOptions.CultureInvariant)]
    private static partial Regex PathStep();
}

/// <summary>A field of an object has the wrong shape.</summary>
public sealed class ObjectDecodeException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
