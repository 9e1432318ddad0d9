using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NodeAgent.Rendering;

/// <summary>
/// Writes JSON as Go's <c>json.MarshalIndent(v, "", "  ")</c> does for a policy: object keys in
/// byte order, two-space indent, Go's string escaping (including <c>&lt; &gt; &amp;</c> and
/// U+2028/U+2029), and a final newline. Same input, same bytes.
/// </summary>
public static class PolicyJsonWriter
{
    public static byte[] Write(JsonNode? node)
    {
        var sb = new StringBuilder(256);
        WriteNode(sb, node, 0);
        sb.Append('\n');
        return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(sb.ToString());
    }

    private static void WriteNode(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                WriteObject(sb, obj, depth);
                break;
            case JsonArray array:
                WriteArray(sb, array, depth);
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteObject(StringBuilder sb, JsonObject obj, int depth)
    {
        if (obj.Count == 0)
        {
            sb.Append("{}");
            return;
        }
        var keys = obj.Select(p => p.Key).ToList();
        keys.Sort(ByteOrder.Instance);
        sb.Append("{\n");
        for (var i = 0; i < keys.Count; i++)
        {
            Indent(sb, depth + 1);
            WriteString(sb, keys[i]);
            sb.Append(": ");
            WriteNode(sb, obj[keys[i]], depth + 1);
            sb.Append(i + 1 < keys.Count ? ",\n" : "\n");
        }
        Indent(sb, depth);
        sb.Append('}');
    }

    private static void WriteArray(StringBuilder sb, JsonArray array, int depth)
    {
        if (array.Count == 0)
        {
            sb.Append("[]");
            return;
        }
        sb.Append("[\n");
        for (var i = 0; i < array.Count; i++)
        {
            Indent(sb, depth + 1);
            WriteNode(sb, array[i], depth + 1);
            sb.Append(i + 1 < array.Count ? ",\n" : "\n");
        }
        Indent(sb, depth);
        sb.Append(']');
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        if (value.TryGetValue<string>(out var text))
        {
            WriteString(sb, text);
            return;
        }
        if (value.TryGetValue<bool>(out var flag))
        {
            sb.Append(flag ? "true" : "false");
            return;
        }
        if (!value.TryGetValue<JsonElement>(out var element))
        {
            // A number built in code rather than parsed: System.Text.Json prints it plainly.
            sb.Append(value.ToJsonString());
            return;
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                WriteString(sb, element.GetString()!);
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                // Numbers keep the text they were written with.
                sb.Append(element.GetRawText());
                break;
        }
    }

    private static void Indent(StringBuilder sb, int depth) => sb.Append(' ', depth * 2);

    public static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                    AppendUnicodeEscape(sb, c);
                    break;
                default:
                    if (c < 0x20)
                    {
                        AppendUnicodeEscape(sb, c);
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        sb.Append(c).Append(value[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        // A lone surrogate is not valid UTF-8; Go writes the replacement character.
                        sb.Append("\\ufffd");
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    private static void AppendUnicodeEscape(StringBuilder sb, char c) =>
        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
}
