using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using NodeAgent.Text;

namespace NodeAgent.Cluster;

/// <summary>A field the schema does not allow: its path, the line it is on, and what is wrong.</summary>
public sealed record FieldProblem(string Path, int? Line, string Message);

/// <summary>
/// Strict field validation, as <c>kubectl apply</c> does it by default: every field of an object
/// must exist in its kind's schema and have the schema's shape (scalar, object or list). A typo
/// in a field name would otherwise drop the field silently, and with it mirrors, CAs or blocked
/// registries from the node. Only <see cref="FieldShape.Any"/> subtrees (status) are not looked into.
/// </summary>
public static partial class StrictFields
{
    /// <summary>Most fields listed after "the fields here are"; an object with more shows none.</summary>
    private const int MaxListedFields = 8;

    public static IReadOnlyList<FieldProblem> Check(JsonObject root, FieldSchema schema, SourceLines lines)
    {
        var problems = new List<FieldProblem>();
        CheckObject(root, schema, "", lines, problems);
        return problems;
    }

    private static void Check(JsonNode? node, FieldSchema schema, string path, int? line, SourceLines lines, List<FieldProblem> problems)
    {
        // null is an absent value for every shape, as the API server's pruning treats it.
        if (node is null || schema.Shape == FieldShape.Any)
        {
            return;
        }
        switch (schema.Shape)
        {
            case FieldShape.Scalar when node is not JsonValue:
            case FieldShape.Array when node is not JsonArray:
            case FieldShape.Record or FieldShape.Map when node is not JsonObject:
                problems.Add(new FieldProblem(path, line, $"expected {Expected(schema)}, got {Got(node)}"));
                return;
        }
        switch (node)
        {
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Check(array[i], schema.Items!, $"{path}[{i}]", lines.ItemLine(array, i) ?? line, lines, problems);
                }
                break;
            case JsonObject obj when schema.Shape == FieldShape.Map:
                foreach (var (key, value) in obj)
                {
                    Check(value, schema.Items!, Join(path, key), lines.KeyLine(obj, key) ?? line, lines, problems);
                }
                break;
            case JsonObject obj:
                CheckObject(obj, schema, path, lines, problems);
                break;
        }
    }

    private static void CheckObject(JsonObject obj, FieldSchema schema, string path, SourceLines lines, List<FieldProblem> problems)
    {
        foreach (var (key, value) in obj)
        {
            var fieldPath = Join(path, key);
            var line = lines.KeyLine(obj, key);
            if (schema.Fields.TryGetValue(key, out var field))
            {
                Check(value, field, fieldPath, line, lines, problems);
                continue;
            }
            problems.Add(new FieldProblem(fieldPath, line, UnknownField(key, path, schema)));
        }
    }

    private static string UnknownField(string key, string parentPath, FieldSchema schema)
    {
        var where = parentPath.Length == 0 ? "at the top level" : $"in {parentPath}";
        var known = schema.Fields.Keys.Order(StringComparer.Ordinal).ToList();
        if (NearMiss.Closest(key, known) is { } suggestion)
        {
            return $"unknown field \"{key}\" {where}; did you mean \"{suggestion}\"?";
        }
        return known.Count <= MaxListedFields
            ? $"unknown field \"{key}\" {where}; the fields here are {string.Join(", ", known)}"
            : $"unknown field \"{key}\" {where}";
    }

    private static string Expected(FieldSchema schema) => schema.Shape switch
    {
        FieldShape.Scalar => "a single value",
        FieldShape.Array => "a list",
        FieldShape.Map => "a map",
        _ => "an object",
    };

    private static string Got(JsonNode node) => node switch
    {
        JsonObject => "an object (is a line indented too far?)",
        JsonArray => "a list",
        _ => $"the value {Shorten(node.ToJsonString())}",
    };

    private static string Shorten(string json) => json.Length > 60 ? json[..60] + "…" : json;

    /// <summary>A field path as the decoder writes it: dots, and ['…'] around keys that are not plain names.</summary>
    public static string Join(string path, string key)
    {
        var step = PlainKey().IsMatch(key) ? key : $"['{key}']";
        return path.Length == 0 ? step : step.StartsWith('[') ? path + step : $"{path}.{step}";
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainKey();
}
