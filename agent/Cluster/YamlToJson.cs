using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NodeAgent.Cluster;

/// <summary>One YAML document as JSON, with the line it starts on.</summary>
public sealed record YamlDocument(JsonNode Node, int Line);

/// <summary>
/// Reads multi-document YAML into JSON nodes from the parser's events, so depth and alias
/// expansion are counted as they happen: an alias bomb or a deeply nested file fails at the limit
/// instead of exhausting memory or the stack. Plain scalars resolve as in YAML 1.2's core schema.
/// </summary>
public sealed partial class YamlToJson
{
    private readonly string _file;
    private readonly ManifestLimits _limits;
    private readonly Dictionary<string, (JsonNode? Node, int Size)> _anchors = new(StringComparer.Ordinal);
    private int _nodes;

    private YamlToJson(string file, ManifestLimits limits)
    {
        _file = file;
        _limits = limits;
    }

    public static IReadOnlyList<YamlDocument> Read(string file, string text, ManifestLimits limits)
    {
        var reader = new YamlToJson(file, limits);
        try
        {
            return reader.ReadStream(new Parser(new StringReader(text)));
        }
        catch (YamlException e)
        {
            throw new ManifestException($"{file}:{e.Start.Line}", $"invalid YAML: {FirstLine(e.Message)}");
        }
    }

    private List<YamlDocument> ReadStream(IParser parser)
    {
        var documents = new List<YamlDocument>();
        parser.Consume<StreamStart>();
        while (parser.TryConsume<DocumentStart>(out var start))
        {
            _anchors.Clear();
            var (node, _) = ReadNode(parser, 1);
            parser.Consume<DocumentEnd>();
            if (node is not null)
            {
                documents.Add(new YamlDocument(node, (int)start.Start.Line));
            }
        }
        parser.Consume<StreamEnd>();
        return documents;
    }

    private (JsonNode? Node, int Size) ReadNode(IParser parser, int depth)
    {
        if (depth > _limits.MaxDepth)
        {
            throw new ManifestException($"{_file}:{parser.Current?.Start.Line}",
                $"YAML nested deeper than {_limits.MaxDepth} levels (MaxYamlDepth)");
        }
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
            {
                throw new ManifestException($"{_file}:{alias.Start.Line}", $"unknown YAML alias *{alias.Value.Value}");
            }
            Count(anchored.Size, alias.Start.Line);
            return (anchored.Node?.DeepClone(), anchored.Size);
        }
        (JsonNode? Node, int Size) result;
        AnchorName anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            anchor = scalar.Anchor;
            Count(1, scalar.Start.Line);
            result = (ResolveScalar(scalar), 1);
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            anchor = sequenceStart.Anchor;
            result = ReadSequence(parser, depth);
        }
        else if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            anchor = mappingStart.Anchor;
            result = ReadMapping(parser, depth, mappingStart.Start.Line);
        }
        else
        {
            throw new ManifestException($"{_file}:{parser.Current?.Start.Line}", "unexpected YAML event");
        }
        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = result;
        }
        return result;
    }

    private (JsonNode Node, int Size) ReadSequence(IParser parser, int depth)
    {
        var array = new JsonArray();
        var size = 1;
        Count(1, parser.Current?.Start.Line ?? 0);
        while (!parser.TryConsume<SequenceEnd>(out _))
        {
            var (item, itemSize) = ReadNode(parser, depth + 1);
            array.Add(item);
            size += itemSize;
        }
        return (array, size);
    }

    private (JsonNode Node, int Size) ReadMapping(IParser parser, int depth, long line)
    {
        var obj = new JsonObject();
        var size = 1;
        Count(1, line);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var keyLine = parser.Current?.Start.Line ?? line;
            var (name, keySize) = ReadKey(parser, depth, keyLine);
            var (value, valueSize) = ReadNode(parser, depth + 1);
            if (name == "<<")
            {
                throw new ManifestException($"{_file}:{keyLine}", "YAML merge keys (<<) are not supported in manifests");
            }
            if (obj.ContainsKey(name))
            {
                throw new ManifestException($"{_file}:{keyLine}", $"duplicate key \"{name}\"");
            }
            obj[name] = value;
            size += keySize + valueSize;
        }
        return (obj, size);
    }

    // Keys are taken as written: "5000" or "true" as a ConfigMap key is a string, not a number.
    private (string Name, int Size) ReadKey(IParser parser, int depth, long line)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            Count(1, line);
            if (!scalar.Anchor.IsEmpty)
            {
                _anchors[scalar.Anchor.Value] = (JsonValue.Create(scalar.Value), 1);
            }
            return (scalar.Value, 1);
        }
        var (key, size) = ReadNode(parser, depth + 1);
        if (key is not JsonValue value)
        {
            throw new ManifestException($"{_file}:{line}", "a mapping key must be a scalar");
        }
        return (value.TryGetValue<string>(out var text) ? text : value.ToJsonString(), size);
    }

    private void Count(int nodes, long line)
    {
        _nodes += nodes;
        if (_nodes > ManifestLimits.MaxNodesPerFile)
        {
            throw new ManifestException($"{_file}:{line}",
                $"the file expands to more than {ManifestLimits.MaxNodesPerFile} YAML nodes (alias expansion budget)");
        }
    }

    private static JsonValue? ResolveScalar(Scalar scalar)
    {
        var value = scalar.Value;
        if (scalar.Style is not ScalarStyle.Plain || !scalar.Tag.IsEmpty)
        {
            return scalar.Tag.IsEmpty || scalar.Tag.Value is "tag:yaml.org,2002:str" or "!"
                ? JsonValue.Create(value)
                : ResolveTagged(scalar.Tag.Value, value);
        }
        return ResolvePlain(value);
    }

    private static JsonValue? ResolveTagged(string tag, string value) => tag switch
    {
        "tag:yaml.org,2002:null" => null,
        "tag:yaml.org,2002:bool" or "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" => ResolvePlain(value),
        _ => JsonValue.Create(value),
    };

    private static JsonValue? ResolvePlain(string value)
    {
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }
        return JsonValue.Create(value);
    }

    private static string FirstLine(string message)
    {
        var newline = message.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? message : message[..newline];
    }

    [GeneratedRegex("^[-+]?[0-9]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();

    [GeneratedRegex("^[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}
