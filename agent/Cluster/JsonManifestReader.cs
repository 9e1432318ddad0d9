using System.Text.Json;
using System.Text.Json.Nodes;

using NodeAgent.Text;

namespace NodeAgent.Cluster;

/// <summary>
/// Reads a JSON manifest into nodes with the line of every key, so a JSON file's problems name
/// their line as a YAML file's do. A duplicate key is invalid input, as in YAML (JsonNode would
/// keep the last one silently); nesting is bounded by MaxYamlDepth.
/// </summary>
public sealed class JsonManifestReader
{
    private readonly string _file;
    private readonly int[] _newlines;
    private readonly SourceLines _lines = new();

    private JsonManifestReader(string file, ReadOnlySpan<byte> utf8)
    {
        _file = file;
        var newlines = new List<int>();
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
            {
                newlines.Add(i);
            }
        }
        _newlines = [.. newlines];
    }

    /// <summary>The file's one document, or none when it holds only <c>null</c>; throws <see cref="ManifestException"/>.</summary>
    public static IReadOnlyList<YamlDocument> Read(string file, ReadOnlySpan<byte> utf8, ManifestLimits limits)
    {
        var reader = new JsonManifestReader(file, utf8);
        var json = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = limits.MaxDepth });
        try
        {
            if (!json.Read())
            {
                throw new ManifestException($"{file}:1", "invalid JSON: the file holds no value");
            }
            var node = reader.ReadValue(ref json);
            if (json.Read())
            {
                throw new ManifestException($"{file}:{reader.Line(json.TokenStartIndex)}", "invalid JSON: more than one value in the file");
            }
            return node is null ? [] : [new YamlDocument(node, 1, reader._lines)];
        }
        catch (JsonException e)
        {
            var line = JsonErrorText.Line(e, System.Text.Encoding.UTF8.GetString(utf8)) ?? 1;
            var reason = e.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                ? $"JSON nested deeper than {limits.MaxDepth} levels (MaxYamlDepth)"
                : $"invalid JSON: {JsonErrorText.Reason(e)}";
            throw new ManifestException($"{file}:{line}", reason);
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader refuses to turn an escape such as a lone "\ud800" into a string.
            throw new ManifestException($"{file}:{reader.Line(json.TokenStartIndex)}",
                "a string is not valid Unicode text (a lone surrogate escape)");
        }
    }

    private JsonNode? ReadValue(ref Utf8JsonReader json)
    {
        switch (json.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new JsonObject();
                _lines.AddContainer(obj, Line(json.TokenStartIndex));
                while (json.Read() && json.TokenType != JsonTokenType.EndObject)
                {
                    var name = json.GetString()!;
                    var keyLine = Line(json.TokenStartIndex);
                    json.Read();
                    var value = ReadValue(ref json);
                    if (obj.ContainsKey(name))
                    {
                        throw new ManifestException($"{_file}:{keyLine}", $"duplicate key \"{name}\"");
                    }
                    obj[name] = value;
                    _lines.AddKey(obj, name, keyLine);
                }
                return obj;
            case JsonTokenType.StartArray:
                var array = new JsonArray();
                _lines.AddContainer(array, Line(json.TokenStartIndex));
                while (json.Read() && json.TokenType != JsonTokenType.EndArray)
                {
                    _lines.AddItem(array, Line(json.TokenStartIndex));
                    array.Add(ReadValue(ref json));
                }
                return array;
            case JsonTokenType.String:
                return JsonValue.Create(json.GetString()!);
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.True or JsonTokenType.False:
                return JsonValue.Create(json.GetBoolean());
            default:
                // Numbers keep the text they were written with, for messages that quote them.
                using (var number = JsonDocument.ParseValue(ref json))
                {
                    return JsonValue.Create(number.RootElement.Clone());
                }
        }
    }

    private int Line(long byteOffset)
    {
        var index = Array.BinarySearch(_newlines, (int)byteOffset);
        return (index < 0 ? ~index : index) + 1;
    }
}
