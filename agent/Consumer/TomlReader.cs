using System.Globalization;
using System.Text;

namespace NodeAgent.Consumer;

/// <summary>
/// A small TOML 1.0 reader (a stand-in for a TOML library, none being available here), enough
/// for containers-registries.conf(5): comments, bare/quoted/dotted keys, basic strings with every
/// escape, literal and multi-line strings, integers (decimal, hex, octal, binary), floats,
/// booleans, arrays (multi-line, trailing comma), inline tables, <c>[table]</c> and
/// <c>[[array.of.tables]]</c> (a nested one like <c>[[registry.mirror]]</c> goes into the last
/// <c>[[registry]]</c>). Dates and times are refused with an error naming the line rather than
/// read wrongly. Every error is a <see cref="TomlException"/> naming the line.
/// </summary>
/// <remarks>
/// Values are <see cref="string"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>,
/// <see cref="TomlTable"/> or <see cref="TomlArray"/>; each key keeps the line it was written on.
/// </remarks>
public sealed class TomlReader
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private readonly string _text;
    private int _pos;
    private int _line = 1;

    private TomlReader(string text)
    {
        _text = text;
        if (_text.Length > 0 && _text[0] == '\uFEFF')
        {
            _pos = 1;
        }
    }

    /// <summary>Parses a whole document into its root table.</summary>
    public static TomlTable Parse(string text) => new TomlReader(text).Document();

    private TomlTable Document()
    {
        var root = new TomlTable("", 0, TomlTableKind.Header);
        var current = root;
        while (true)
        {
            SkipWhitespaceNewlinesAndComments();
            if (AtEnd)
            {
                return root;
            }
            var line = _line;
            if (Peek() == '[')
            {
                var arrayOfTables = PeekAt(1) == '[';
                _pos += arrayOfTables ? 2 : 1;
                SkipSpaces();
                var path = Key();
                SkipSpaces();
                if (!Take(arrayOfTables ? "]]" : "]"))
                {
                    throw Error(arrayOfTables
                        ? "expected end of table array name delimiter ']]'"
                        : "expected end of table name delimiter ']'");
                }
                current = arrayOfTables ? AppendArrayTable(root, path, line) : DefineTable(root, path, line);
            }
            else
            {
                KeyValue(current);
            }
            EndOfLine();
        }
    }

    // ---- tables ----------------------------------------------------------------------------

    private static TomlTable DefineTable(TomlTable root, List<string> path, int line)
    {
        var parent = Descend(root, path, line);
        var name = path[^1];
        var fullName = Join(path);
        if (parent.TryGet(name, out var existing))
        {
            if (existing.Value is TomlTable { Kind: TomlTableKind.Implicit } table)
            {
                table.Kind = TomlTableKind.Header;
                table.Line = line;
                return table;
            }
            throw existing.Value is TomlTable or TomlArray { IsArrayOfTables: true }
                ? new TomlException(line, $"table \"{fullName}\" has already been defined (line {existing.Line})")
                : new TomlException(line, $"key \"{fullName}\" has already been defined as a {TypeName(existing.Value)} (line {existing.Line})");
        }
        var created = new TomlTable(fullName, line, TomlTableKind.Header);
        parent.Add(name, created, line);
        return created;
    }

    private static TomlTable AppendArrayTable(TomlTable root, List<string> path, int line)
    {
        var parent = Descend(root, path, line);
        var name = path[^1];
        var fullName = Join(path);
        var element = new TomlTable(fullName, line, TomlTableKind.Header);
        if (parent.TryGet(name, out var existing))
        {
            if (existing.Value is not TomlArray { IsArrayOfTables: true } array)
            {
                throw new TomlException(line,
                    $"key \"{fullName}\" has already been defined as a {TypeName(existing.Value)} (line {existing.Line}); it cannot be an array of tables");
            }
            array.Add(element);
            return element;
        }
        var created = new TomlArray(line, isArrayOfTables: true);
        created.Add(element);
        parent.Add(name, created, line);
        return element;
    }

    // Walks every key of a header but the last, creating implicit tables; an array of tables
    // stands for its last element, as [[registry.mirror]] belongs to the last [[registry]].
    private static TomlTable Descend(TomlTable root, List<string> path, int line)
    {
        var table = root;
        for (var i = 0; i < path.Count - 1; i++)
        {
            var name = path[i];
            if (!table.TryGet(name, out var existing))
            {
                var created = new TomlTable(Join(path.Take(i + 1)), line, TomlTableKind.Implicit);
                table.Add(name, created, line);
                table = created;
                continue;
            }
            table = existing.Value switch
            {
                TomlTable { Kind: not TomlTableKind.Inline } t => t,
                TomlArray { IsArrayOfTables: true } a => (TomlTable)a[^1],
                _ => throw new TomlException(line,
                    $"key \"{Join(path.Take(i + 1))}\" is a {TypeName(existing.Value)} (line {existing.Line}); it cannot hold tables"),
            };
        }
        return table;
    }

    // ---- key/value pairs -------------------------------------------------------------------

    private void KeyValue(TomlTable table)
    {
        var line = _line;
        var path = Key();
        SkipSpaces();
        if (!Take("="))
        {
            throw Error($"expected '=' after the key \"{Join(path)}\"");
        }
        SkipSpaces();
        var value = Value();
        for (var i = 0; i < path.Count - 1; i++)
        {
            var name = path[i];
            if (!table.TryGet(name, out var existing))
            {
                var created = new TomlTable(Qualify(table, path.Take(i + 1)), line, TomlTableKind.Dotted);
                table.Add(name, created, line);
                table = created;
                continue;
            }
            // A dotted key may only extend a table that dotted keys of the same block created.
            if (existing.Value is not TomlTable { Kind: TomlTableKind.Dotted } sub)
            {
                var taken = Qualify(table, path.Take(i + 1));
                throw new TomlException(line, $"key \"{taken}\" has already been defined (line {existing.Line})", taken);
            }
            table = sub;
        }
        var last = path[^1];
        if (table.TryGet(last, out var duplicate))
        {
            var full = Qualify(table, [last]);
            throw new TomlException(line, $"key \"{full}\" has already been defined (line {duplicate.Line})", full);
        }
        table.Add(last, value, line);
    }

    private static string Qualify(TomlTable table, IEnumerable<string> keys) =>
        table.Name.Length == 0 ? Join(keys) : table.Name + "." + Join(keys);

    private List<string> Key()
    {
        var parts = new List<string>();
        while (true)
        {
            parts.Add(SimpleKey());
            SkipSpaces();
            if (Peek() != '.')
            {
                return parts;
            }
            _pos++;
            SkipSpaces();
        }
    }

    private string SimpleKey()
    {
        var c = Peek();
        if (c == '"')
        {
            if (PeekAt(1) == '"' && PeekAt(2) == '"')
            {
                throw Error("a multi-line string cannot be a key");
            }
            _pos++;
            return BasicString();
        }
        if (c == '\'')
        {
            if (PeekAt(1) == '\'' && PeekAt(2) == '\'')
            {
                throw Error("a multi-line string cannot be a key");
            }
            _pos++;
            return LiteralString();
        }
        var start = _pos;
        while (!AtEnd && IsBareKeyChar(Peek()))
        {
            _pos++;
        }
        if (_pos == start)
        {
            throw Error(AtEnd || IsNewline(Peek()) ? "expected a key" : $"unexpected character {Describe(Peek())}: expected a key");
        }
        return _text[start.._pos];
    }

    private static bool IsBareKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    // ---- values ----------------------------------------------------------------------------

    private object Value()
    {
        if (AtEnd)
        {
            throw Error("expected a value");
        }
        var c = Peek();
        switch (c)
        {
            case '"':
                if (Take("\"\"\""))
                {
                    return MultiLineString(literal: false);
                }
                _pos++;
                return BasicString();
            case '\'':
                if (Take("'''"))
                {
                    return MultiLineString(literal: true);
                }
                _pos++;
                return LiteralString();
            case '[':
                _pos++;
                return Array();
            case '{':
                _pos++;
                return InlineTable();
        }
        if (Take("true"))
        {
            return EndOfAtom(true);
        }
        if (Take("false"))
        {
            return EndOfAtom(false);
        }
        return Number();
    }

    private object EndOfAtom(object value)
    {
        if (!AtEnd && (IsBareKeyChar(Peek()) || Peek() is '.' or ':' or '+'))
        {
            throw Error($"unexpected character {Describe(Peek())} after a value");
        }
        return value;
    }

    private object Number()
    {
        var start = _pos;
        while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek()) || Peek() is '+' or '-' or '_' or '.' or ':'))
        {
            _pos++;
        }
        var token = _text[start.._pos];
        if (token.Length == 0)
        {
            throw Error(AtEnd || IsNewline(Peek()) ? "expected a value" : $"unexpected character {Describe(Peek())}: expected a value");
        }
        if (IsDateLike(token))
        {
            throw new TomlException(_line, $"dates and times are not supported by this reader: {token}");
        }
        if (TryInteger(token, out var integer))
        {
            return integer;
        }
        if (TryFloat(token, out var number))
        {
            return number;
        }
        throw new TomlException(_line, $"invalid value {token} (strings must be quoted)");
    }

    private static bool IsDateLike(string token) =>
        token.Length >= 5 && char.IsAsciiDigit(token[0]) && char.IsAsciiDigit(token[1]) &&
        ((char.IsAsciiDigit(token[2]) && char.IsAsciiDigit(token[3]) && token[4] == '-') || token[2] == ':');

    private static bool TryInteger(string token, out long value)
    {
        value = 0;
        if (token.Length > 2 && token[0] == '0' && token[1] is 'x' or 'o' or 'b')
        {
            var digits = token[2..];
            var numberBase = token[1] switch { 'x' => 16, 'o' => 8, _ => 2 };
            if (!HasValidUnderscores(digits))
            {
                return false;
            }
            ulong result = 0;
            foreach (var c in digits)
            {
                if (c == '_')
                {
                    continue;
                }
                var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? (c | 0x20) - 'a' + 10 : numberBase;
                if (digit >= numberBase || result > (ulong)long.MaxValue / (ulong)numberBase)
                {
                    return false;
                }
                result = (result * (ulong)numberBase) + (ulong)digit;
            }
            if (result > long.MaxValue)
            {
                return false;
            }
            value = (long)result;
            return true;
        }
        var body = token[0] is '+' or '-' ? token[1..] : token;
        if (body.Length == 0 || !body.All(c => char.IsAsciiDigit(c) || c == '_') || !HasValidUnderscores(body) ||
            (body.Length > 1 && body[0] == '0'))
        {
            return false;
        }
        return long.TryParse(token.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryFloat(string token, out double value)
    {
        value = 0;
        var body = token[0] is '+' or '-' ? token[1..] : token;
        switch (body)
        {
            case "inf":
                value = token[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
                return true;
            case "nan":
                value = double.NaN;
                return true;
        }
        // decimal-int [ "." digits ] [ ("e"|"E") [sign] digits ], with at least a fraction or an exponent.
        var e = body.IndexOfAny(['e', 'E']);
        var mantissa = e < 0 ? body : body[..e];
        var exponent = e < 0 ? null : body[(e + 1)..];
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integerPart = dot < 0 ? mantissa : mantissa[..dot];
        var fraction = dot < 0 ? null : mantissa[(dot + 1)..];
        if ((fraction is null && exponent is null) || !IsDecimalDigits(integerPart) ||
            (integerPart.Length > 1 && integerPart[0] == '0') ||
            (fraction is not null && !IsDecimalDigits(fraction)) ||
            (exponent is not null && !IsDecimalDigits(exponent is ['+' or '-', ..] ? exponent[1..] : exponent)))
        {
            return false;
        }
        return double.TryParse(token.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsDecimalDigits(string s) => s.Length > 0 && s.All(c => char.IsAsciiDigit(c) || c == '_') && HasValidUnderscores(s);

    // An underscore must sit between two digits.
    private static bool HasValidUnderscores(string digits) =>
        digits.Length > 0 && digits[0] != '_' && digits[^1] != '_' && !digits.Contains("__", StringComparison.Ordinal);

    private TomlArray Array()
    {
        var array = new TomlArray(_line, isArrayOfTables: false);
        while (true)
        {
            SkipWhitespaceNewlinesAndComments();
            if (Take("]"))
            {
                return array;
            }
            if (AtEnd)
            {
                throw Error("unterminated array: expected ']'");
            }
            array.Add(Value());
            SkipWhitespaceNewlinesAndComments();
            if (Take("]"))
            {
                return array;
            }
            if (!Take(","))
            {
                throw Error(AtEnd ? "unterminated array: expected ']'" : $"unexpected character {Describe(Peek())} in an array: expected ',' or ']'");
            }
        }
    }

    private TomlTable InlineTable()
    {
        var table = new TomlTable("", _line, TomlTableKind.Inline);
        SkipSpaces();
        if (Take("}"))
        {
            return table;
        }
        while (true)
        {
            SkipSpaces();
            if (AtEnd || IsNewline(Peek()))
            {
                throw Error("an inline table must end on the line it starts: expected a key and '}'");
            }
            KeyValue(table);
            SkipSpaces();
            if (Take("}"))
            {
                Seal(table);
                return table;
            }
            if (!Take(","))
            {
                throw Error(AtEnd || IsNewline(Peek())
                    ? "an inline table must end on the line it starts: expected '}'"
                    : $"unexpected character {Describe(Peek())} in an inline table: expected ',' or '}}'");
            }
        }
    }

    // An inline table is complete once closed: neither headers nor dotted keys may add to it or
    // to the tables its own dotted keys created.
    private static void Seal(TomlTable table)
    {
        table.Kind = TomlTableKind.Inline;
        foreach (var key in table.Keys)
        {
            if (table.TryGet(key, out var entry) && entry.Value is TomlTable { Kind: TomlTableKind.Dotted } sub)
            {
                Seal(sub);
            }
        }
    }

    // ---- strings ---------------------------------------------------------------------------

    private string BasicString()
    {
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd || IsNewline(Peek()))
            {
                throw Error("unterminated string: expected '\"' before the end of the line");
            }
            var c = _text[_pos++];
            switch (c)
            {
                case '"':
                    return sb.ToString();
                case '\\':
                    Escape(sb);
                    break;
                default:
                    CheckControl(c);
                    sb.Append(c);
                    break;
            }
        }
    }

    private string LiteralString()
    {
        var start = _pos;
        while (true)
        {
            if (AtEnd || IsNewline(Peek()))
            {
                throw Error("unterminated string: expected \"'\" before the end of the line");
            }
            var c = _text[_pos++];
            if (c == '\'')
            {
                return _text[start..(_pos - 1)];
            }
            CheckControl(c);
        }
    }

    private string MultiLineString(bool literal)
    {
        var quote = literal ? '\'' : '"';
        // A newline right after the opening delimiter is not part of the string.
        if (Take("\r\n") || Take("\n"))
        {
            _line++;
        }
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Error($"unterminated multi-line string: expected {new string(quote, 3)}");
            }
            var c = Peek();
            if (c == quote)
            {
                var run = 0;
                while (PeekAt(run) == quote)
                {
                    run++;
                }
                if (run >= 3)
                {
                    if (run > 5)
                    {
                        throw Error($"too many quotes ({run}) at the end of a multi-line string");
                    }
                    // Up to two quotes just before the closing delimiter belong to the string.
                    sb.Append(quote, run - 3);
                    _pos += run;
                    return sb.ToString();
                }
                sb.Append(quote, run);
                _pos += run;
                continue;
            }
            if (NewlineLength() is var newline and > 0)
            {
                sb.Append('\n');
                _pos += newline;
                _line++;
                continue;
            }
            _pos++;
            if (c == '\\' && !literal)
            {
                if (LineEndingBackslash())
                {
                    continue;
                }
                Escape(sb);
                continue;
            }
            CheckControl(c);
            sb.Append(c);
        }
    }

    // A backslash followed only by spaces up to the end of the line trims that whitespace and
    // every newline, space and tab up to the next other character.
    private bool LineEndingBackslash()
    {
        var i = _pos;
        while (i < _text.Length && _text[i] is ' ' or '\t')
        {
            i++;
        }
        if (i >= _text.Length || !IsNewlineAt(i))
        {
            return false;
        }
        _pos = i;
        while (!AtEnd && (Peek() is ' ' or '\t' || NewlineLength() > 0))
        {
            if (NewlineLength() is var n and > 0)
            {
                _pos += n;
                _line++;
            }
            else
            {
                _pos++;
            }
        }
        return true;
    }

    private void Escape(StringBuilder sb)
    {
        if (AtEnd)
        {
            throw Error("unterminated escape sequence");
        }
        var c = _text[_pos++];
        switch (c)
        {
            case 'b': sb.Append('\b'); break;
            case 't': sb.Append('\t'); break;
            case 'n': sb.Append('\n'); break;
            case 'f': sb.Append('\f'); break;
            case 'r': sb.Append('\r'); break;
            case '"': sb.Append('"'); break;
            case '\\': sb.Append('\\'); break;
            case 'u': sb.Append(Unicode(4)); break;
            case 'U': sb.Append(Unicode(8)); break;
            default: throw Error($"invalid escape sequence \\{(char.IsControl(c) ? Describe(c) : c.ToString())}");
        }
    }

    private string Unicode(int digits)
    {
        if (_pos + digits > _text.Length ||
            !int.TryParse(_text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) ||
            _text.AsSpan(_pos, digits).ContainsAnyExcept(HexDigits))
        {
            throw Error($"invalid unicode escape: expected {digits} hex digits");
        }
        _pos += digits;
        if (code is > 0x10FFFF or >= 0xD800 and <= 0xDFFF)
        {
            throw Error($"invalid unicode escape: U+{code:X} is not a Unicode scalar value");
        }
        return char.ConvertFromUtf32(code);
    }

    // TOML allows tab but no other control character inside a string.
    private void CheckControl(char c)
    {
        if (c != '\t' && (c < 0x20 || c == 0x7F))
        {
            throw Error($"control character {Describe(c)} is not allowed in a string (write it as an escape)");
        }
    }

    // ---- layout ----------------------------------------------------------------------------

    private bool AtEnd => _pos >= _text.Length;

    private char Peek() => _text[_pos];

    private char PeekAt(int offset) => _pos + offset < _text.Length ? _text[_pos + offset] : '\0';

    private bool Take(string s)
    {
        if (string.CompareOrdinal(_text, _pos, s, 0, s.Length) != 0)
        {
            return false;
        }
        _pos += s.Length;
        return true;
    }

    private static bool IsNewline(char c) => c is '\n' or '\r';

    private bool IsNewlineAt(int i) => _text[i] == '\n' || (_text[i] == '\r' && i + 1 < _text.Length && _text[i + 1] == '\n');

    private int NewlineLength() => AtEnd ? 0 : _text[_pos] == '\n' ? 1 : _text[_pos] == '\r' && PeekAt(1) == '\n' ? 2 : 0;

    private void SkipSpaces()
    {
        while (!AtEnd && Peek() is ' ' or '\t')
        {
            _pos++;
        }
    }

    private void SkipComment()
    {
        if (AtEnd || Peek() != '#')
        {
            return;
        }
        while (!AtEnd && NewlineLength() == 0)
        {
            var c = Peek();
            if (c == '\r' || (c != '\t' && (c < 0x20 || c == 0x7F)))
            {
                throw Error($"control character {Describe(c)} is not allowed in a comment");
            }
            _pos++;
        }
    }

    private void SkipWhitespaceNewlinesAndComments()
    {
        while (true)
        {
            SkipSpaces();
            SkipComment();
            if (NewlineLength() is var n and > 0)
            {
                _pos += n;
                _line++;
                continue;
            }
            return;
        }
    }

    private void EndOfLine()
    {
        SkipSpaces();
        SkipComment();
        if (AtEnd)
        {
            return;
        }
        if (NewlineLength() is var n and > 0)
        {
            _pos += n;
            _line++;
            return;
        }
        throw Error($"unexpected character {Describe(Peek())}: expected a new line after the value");
    }

    private TomlException Error(string message) => new(_line, message);

    private static string Describe(char c) =>
        c is < ' ' or '\x7F' ? $"U+{(int)c:X4}" : $"'{c}'";

    private static string Join(IEnumerable<string> keys) => string.Join('.', keys);

    /// <summary>The TOML name of a value's type, as errors say it.</summary>
    public static string TypeName(object value) => value switch
    {
        string => "string",
        long => "integer",
        double => "float",
        bool => "boolean",
        TomlArray => "array",
        TomlTable => "table",
        _ => value.GetType().Name,
    };
}

/// <summary>How a table came to exist; TOML allows extending some and not others.</summary>
public enum TomlTableKind
{
    /// <summary>Created as the parent of a header (<c>a</c> for <c>[a.b]</c>); may still be defined once.</summary>
    Implicit,
    /// <summary>Defined by a <c>[header]</c> or <c>[[header]]</c>.</summary>
    Header,
    /// <summary>Created by a dotted key (<c>a.b = 1</c>).</summary>
    Dotted,
    /// <summary>An inline table <c>{ … }</c>, closed once written.</summary>
    Inline,
}

/// <summary>A TOML table: keys in the order written, each with its value and line.</summary>
public sealed class TomlTable
{
    private readonly Dictionary<string, TomlEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];

    internal TomlTable(string name, int line, TomlTableKind kind)
    {
        Name = name;
        Line = line;
        Kind = kind;
    }

    /// <summary>The dotted name of a standard table (<c>registry.mirror</c>); empty for the root and inline tables.</summary>
    public string Name { get; }

    /// <summary>The line of the table's header (or of its first key for an implicit one); 0 for the root.</summary>
    public int Line { get; internal set; }

    public TomlTableKind Kind { get; internal set; }

    public IReadOnlyList<string> Keys => _keys;

    public bool TryGet(string key, out TomlEntry entry) => _entries.TryGetValue(key, out entry);

    internal void Add(string key, object value, int line)
    {
        _entries.Add(key, new TomlEntry(value, line));
        _keys.Add(key);
    }
}

/// <summary>A value and the line its key was written on.</summary>
public readonly record struct TomlEntry(object Value, int Line);

/// <summary>A TOML array: a value array <c>[…]</c>, or an array of tables built from <c>[[name]]</c> headers.</summary>
public sealed class TomlArray(int line, bool isArrayOfTables) : List<object>
{
    public int Line { get; } = line;

    /// <summary>Built from <c>[[name]]</c> headers, so later headers may append to it.</summary>
    public bool IsArrayOfTables { get; } = isArrayOfTables;
}

/// <summary>
/// A TOML syntax error, naming the line (and the key, when there is one) as BurntSushi/toml does:
/// <c>toml: line 4 (last key "registry.location"): …</c>.
/// </summary>
public sealed class TomlException(int line, string detail, string? lastKey = null)
    : FormatException($"toml: line {line}{(lastKey is null ? "" : $" (last key \"{lastKey}\")")}: {detail}")
{
    public int Line { get; } = line;

    public string Detail { get; } = detail;

    public string? LastKey { get; } = lastKey;
}
