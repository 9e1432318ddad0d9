using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NodeAgent.Cluster;

/// <summary>One manifest document as JSON, with the line it starts on and the lines of its parts.</summary>
public sealed record YamlDocument(JsonNode Node, int Line, SourceLines Lines);

/// <summary>
/// Reads multi-document YAML into JSON nodes from the parser's events, so depth and alias
/// expansion are counted as they happen: an alias bomb or a deeply nested file fails at the limit
/// instead of exhausting memory or the stack. Plain scalars resolve as in YAML 1.2's core schema.
/// </summary>
public sealed partial class YamlToJson
{
    private readonly string _file;
    private readonly ManifestLimits _limits;
    private readonly Dictionary<string, Built> _anchors = new(StringComparer.Ordinal);
    private SourceLines _lines = new();
    private int _nodes;
    private long _chars;

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
        catch (YamlException e) when (e.Message.Contains("tab", StringComparison.Ordinal) && TabIndentedLine(text, (int)e.Start.Line) is { } tabLine)
        {
            // The scanner reports a tab used as indentation at the mapping it is in (often line 1).
            throw new ManifestException($"{file}:{tabLine}", "invalid YAML: a tab is used as indentation; YAML indents with spaces only");
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
            _lines = new SourceLines();
            var node = ReadNode(parser, 0).Node;
            parser.Consume<DocumentEnd>();
            if (node is not null)
            {
                documents.Add(new YamlDocument(node, (int)start.Start.Line, _lines));
            }
        }
        parser.Consume<StreamEnd>();
        return documents;
    }

    /// <summary>A node as built: its size in nodes and its height in nested containers.</summary>
    private readonly record struct Built(JsonNode? Node, int Size, int Height, long Chars);

    // depth counts the containers around the node, as JSON's MaxDepth does: a scalar adds none.
    private Built ReadNode(IParser parser, int depth)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
            {
                throw new ManifestException($"{_file}:{alias.Start.Line}", $"unknown YAML alias *{alias.Value.Value}");
            }
            CheckDepth(depth + anchored.Height, alias.Start.Line);
            Count(anchored.Size, anchored.Chars, alias.Start.Line);
            return anchored with { Node = anchored.Node?.DeepClone() };
        }
        Built result;
        AnchorName anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            anchor = scalar.Anchor;
            Count(1, scalar.Value.Length, scalar.Start.Line);
            result = new Built(ResolveScalar(scalar), 1, 0, scalar.Value.Length);
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            anchor = sequenceStart.Anchor;
            CheckDepth(depth + 1, sequenceStart.Start.Line);
            result = ReadSequence(parser, depth + 1, sequenceStart.Start.Line);
        }
        else if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            anchor = mappingStart.Anchor;
            CheckDepth(depth + 1, mappingStart.Start.Line);
            result = ReadMapping(parser, depth + 1, mappingStart.Start.Line);
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

    private void CheckDepth(int depth, long line)
    {
        if (depth > _limits.MaxDepth)
        {
            throw new ManifestException($"{_file}:{line}", $"YAML nested deeper than {_limits.MaxDepth} levels (MaxYamlDepth)");
        }
    }

    private Built ReadSequence(IParser parser, int depth, long line)
    {
        var array = new JsonArray();
        _lines.AddContainer(array, (int)line);
        var size = 1;
        var height = 0;
        long chars = 0;
        Count(1, 0, line);
        while (!parser.TryConsume<SequenceEnd>(out _))
        {
            _lines.AddItem(array, (int)(parser.Current?.Start.Line ?? line));
            var item = ReadNode(parser, depth);
            array.Add(item.Node);
            size += item.Size;
            chars += item.Chars;
            height = Math.Max(height, item.Height);
        }
        return new Built(array, size, height + 1, chars);
    }

    private Built ReadMapping(IParser parser, int depth, long line)
    {
        var obj = new JsonObject();
        _lines.AddContainer(obj, (int)line);
        var size = 1;
        var height = 0;
        long chars = 0;
        Count(1, 0, line);
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var keyLine = parser.Current?.Start.Line ?? line;
            var (name, keySize) = ReadKey(parser, depth, keyLine);
            var value = ReadNode(parser, depth);
            if (name == "<<")
            {
                throw new ManifestException($"{_file}:{keyLine}", "YAML merge keys (<<) are not supported in manifests");
            }
            if (obj.ContainsKey(name))
            {
                throw new ManifestException($"{_file}:{keyLine}", $"duplicate key \"{name}\"");
            }
            obj[name] = value.Node;
            _lines.AddKey(obj, name, (int)keyLine);
            size += keySize + value.Size;
            chars += name.Length + value.Chars;
            height = Math.Max(height, value.Height);
        }
        return new Built(obj, size, height + 1, chars);
    }

    // Keys are taken as written: "5000" or "true" as a ConfigMap key is a string, not a number.
    private (string Name, int Size) ReadKey(IParser parser, int depth, long line)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            Count(1, scalar.Value.Length, line);
            if (!scalar.Anchor.IsEmpty)
            {
                _anchors[scalar.Anchor.Value] = new Built(JsonValue.Create(scalar.Value), 1, 0, scalar.Value.Length);
            }
            return (scalar.Value, 1);
        }
        var (key, size, _, _) = ReadNode(parser, depth);
        if (key is not JsonValue value)
        {
            throw new ManifestException($"{_file}:{line}", "a mapping key must be a scalar");
        }
        return (value.TryGetValue<string>(out var text) ? text : value.ToJsonString(), size);
    }

    private void Count(int nodes, long chars, long line)
    {
        _nodes += nodes;
        _chars += chars;
        if (_nodes > ManifestLimits.MaxNodesPerFile)
        {
            throw new ManifestException($"{_file}:{line}",
                $"the file expands to more than {ManifestLimits.MaxNodesPerFile} YAML nodes (alias expansion budget)");
        }
        if (_chars > ManifestLimits.MaxTextCharsPerFile)
        {
            throw new ManifestException($"{_file}:{line}",
                $"the file expands to more than {ManifestLimits.MaxTextCharsPerFile} characters of text (alias expansion budget)");
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

    // The first line at or after `from` whose indentation holds a tab.
    private static int? TabIndentedLine(string text, int from)
    {
        var lines = text.Split('\n');
        for (var i = Math.Max(from, 1) - 1; i < lines.Length; i++)
        {
            var indentation = lines[i][..(lines[i].Length - lines[i].TrimStart(' ', '\t').Length)];
            if (indentation.Contains('\t', StringComparison.Ordinal) && lines[i].Trim().Length > 0)
            {
                return i + 1;
            }
        }
        return null;
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
