using System.Globalization;
using System.Text;

namespace NodeAgent.Rendering;

/// <summary>
/// The small, deterministic TOML writer node-agent needs (a stand-in for a TOML library): fixed
/// bare keys, basic strings with complete escaping, booleans, string arrays, arrays of tables
/// (laid out as BurntSushi's encoder does) and tables with one quoted key (containerd's
/// <c>[host."https://…"]</c>). Bare keys never come from input, and every string value and
/// quoted key is escaped, so no input can add a table or a key.
/// </summary>
public sealed class TomlWriter
{
    private readonly StringBuilder _sb = new(1024);

    public TomlWriter Text(int indent, string key, string value)
    {
        Key(indent, key);
        AppendBasicString(_sb, value);
        _sb.Append('\n');
        return this;
    }

    public TomlWriter Flag(int indent, string key)
    {
        Key(indent, key);
        _sb.Append("true\n");
        return this;
    }

    public TomlWriter StringArray(int indent, string key, IEnumerable<string> values)
    {
        Key(indent, key);
        _sb.Append('[');
        var first = true;
        foreach (var value in values)
        {
            if (!first)
            {
                _sb.Append(", ");
            }
            AppendBasicString(_sb, value);
            first = false;
        }
        _sb.Append("]\n");
        return this;
    }

    /// <summary>A <c>[[name]]</c> header, preceded by one blank line.</summary>
    public TomlWriter ArrayTable(int indent, string name)
    {
        _sb.Append('\n').Append(' ', indent).Append("[[").Append(name).Append("]]\n");
        return this;
    }

    /// <summary>A <c>[name."key"]</c> header with a quoted key, preceded by one blank line; the key is escaped as any string.</summary>
    public TomlWriter Table(int indent, string name, string quotedKey)
    {
        _sb.Append('\n').Append(' ', indent).Append('[').Append(name).Append('.');
        AppendBasicString(_sb, quotedKey);
        _sb.Append("]\n");
        return this;
    }

    /// <summary>An empty line.</summary>
    public TomlWriter Blank()
    {
        _sb.Append('\n');
        return this;
    }

    /// <summary>A <c>[name]</c> header of a table with a bare name.</summary>
    public TomlWriter Header(string name)
    {
        _sb.Append('[').Append(name).Append("]\n");
        return this;
    }

    /// <summary>A <c>#</c> comment line. Comments are node-agent's own text, never input: a line break is refused.</summary>
    public TomlWriter Comment(string text)
    {
        if (text.AsSpan().IndexOfAny('\n', '\r') >= 0)
        {
            throw new ArgumentException("a TOML comment is one line", nameof(text));
        }
        _sb.Append("# ").Append(text).Append('\n');
        return this;
    }

    public byte[] ToUtf8() => new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(_sb.ToString());

    public override string ToString() => _sb.ToString();

    private void Key(int indent, string key) => _sb.Append(' ', indent).Append(key).Append(" = ");

    /// <summary>
    /// A TOML basic string as BurntSushi writes it: <c>\" \\ \b \t \n \f \r</c> short escapes, lower-case <c>\u00xx</c> for every other
    /// control character (and DEL, which TOML forbids raw), lone surrogates as U+FFFD, the rest as UTF-8.
    /// </summary>
    public static void AppendBasicString(StringBuilder sb, string value)
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
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 0x20 || c == 0x7F)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        sb.Append(c).Append(value[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        sb.Append('\uFFFD');
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
}
