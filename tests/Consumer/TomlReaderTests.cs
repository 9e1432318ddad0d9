using FluentAssertions;
using NodeAgent.Consumer;
using Xunit;

namespace NodeAgent.Tests.Consumer;

/// <summary>The TOML subset registries.conf uses, and every error naming its line.</summary>
public sealed class TomlReaderTests
{
    private static object Get(TomlTable table, params string[] path)
    {
        object current = table;
        foreach (var key in path)
        {
            ((TomlTable)current).TryGet(key, out var entry).Should().BeTrue($"key {key} should exist");
            current = entry.Value;
        }
        return current;
    }

    [Fact]
    public void Reads_keys_comments_and_scalars()
    {
        var root = TomlReader.Parse("""
            # a comment
            bare-key_1 = "basic" # trailing comment
            "quoted key" = 'literal \n stays'
            'single' = true
            off = false
            n = -1_000
            hex = 0xdead_BEEF
            oct = 0o17
            bin = 0b101
            pi = 3.14e0
            neg-inf = -inf
            empty = ""
            """);
        Get(root, "bare-key_1").Should().Be("basic");
        Get(root, "quoted key").Should().Be("literal \\n stays");
        Get(root, "single").Should().Be(true);
        Get(root, "off").Should().Be(false);
        Get(root, "n").Should().Be(-1000L);
        Get(root, "hex").Should().Be(0xdeadbeefL);
        Get(root, "oct").Should().Be(15L);
        Get(root, "bin").Should().Be(5L);
        Get(root, "pi").Should().Be(3.14);
        Get(root, "neg-inf").Should().Be(double.NegativeInfinity);
        Get(root, "empty").Should().Be("");
        root.Keys.Should().Equal("bare-key_1", "quoted key", "single", "off", "n", "hex", "oct", "bin", "pi", "neg-inf", "empty");
    }

    [Fact]
    public void Reads_every_escape_of_a_basic_string()
    {
        var root = TomlReader.Parse("s = \"q\\\" b\\\\ \\b\\t\\n\\f\\r \\u00e9 \\U0001F600\"");
        Get(root, "s").Should().Be("q\" b\\ \b\t\n\f\r \u00e9 \U0001F600");
    }

    [Fact]
    public void Reads_multi_line_strings()
    {
        var root = TomlReader.Parse("a = \"\"\"\nline one\n  line \\\n     two\"\"\"\nb = '''\nraw \\n\n'''\nc = \"\"\"two quotes at the end\"\"\"\"\"\nd = 1");
        Get(root, "a").Should().Be("line one\n  line two", "the first newline is trimmed; a line-ending backslash joins lines");
        Get(root, "b").Should().Be("raw \\n\n", "literal: no escapes");
        Get(root, "c").Should().Be("two quotes at the end\"\"", "up to two quotes before the delimiter are content");
        Get(root, "d").Should().Be(1L);
        root.TryGet("d", out var d);
        d.Line.Should().Be(9, "lines inside multi-line strings are counted");
    }

    [Fact]
    public void Reads_arrays_multi_line_with_comments_and_trailing_comma()
    {
        var root = TomlReader.Parse("""
            a = [
              "x", # first
              'y',

              "z",
            ]
            nested = [[1, 2], ["a"]]
            empty = [ ]
            """);
        ((TomlArray)Get(root, "a")).Should().Equal("x", "y", "z");
        ((TomlArray)Get(root, "nested")).Should().HaveCount(2);
        ((TomlArray)Get(root, "empty")).Should().BeEmpty();
    }

    [Fact]
    public void Reads_tables_dotted_keys_and_inline_tables()
    {
        var root = TomlReader.Parse("""
            [aliases]
            "fedora" = "registry.fedoraproject.org/fedora"
            [a.b]
            c.d = 1
            [a]
            e = { f = "g", h.i = true }
            """);
        Get(root, "aliases", "fedora").Should().Be("registry.fedoraproject.org/fedora");
        Get(root, "a", "b", "c", "d").Should().Be(1L);
        Get(root, "a", "e", "f").Should().Be("g");
        Get(root, "a", "e", "h", "i").Should().Be(true);
    }

    [Fact]
    public void Nested_array_of_tables_goes_into_the_last_parent_element()
    {
        var root = TomlReader.Parse("""
            [[registry]]
            location = "one"
              [[registry.mirror]]
              location = "m1"
              [[registry.mirror]]
              location = "m2"
            [[registry]]
            location = "two"
              [[registry.mirror]]
              location = "m3"
            """);
        var registries = (TomlArray)Get(root, "registry");
        registries.Should().HaveCount(2);
        var first = (TomlTable)registries[0];
        first.Line.Should().Be(1);
        ((TomlArray)Get(first, "mirror")).Cast<TomlTable>().Select(m => Get(m, "location")).Should().Equal("m1", "m2");
        var second = (TomlTable)registries[1];
        second.Line.Should().Be(7);
        ((TomlArray)Get(second, "mirror")).Cast<TomlTable>().Select(m => Get(m, "location")).Should().Equal("m3");
    }

    [Fact]
    public void Accepts_crlf_and_a_byte_order_mark()
    {
        var root = TomlReader.Parse("\uFEFFa = 1\r\nb = \"x\"\r\n");
        Get(root, "b").Should().Be("x");
        root.TryGet("b", out var b);
        b.Line.Should().Be(2);
    }

    public static TheoryData<string, int, string, string> Errors() => new()
    {
        { "a = 1\n[[registry]\nx = 1", 2, "expected end of table array name delimiter", "unclosed [[" },
        { "[table\n", 1, "expected end of table name delimiter", "unclosed [" },
        { "[[registry]]\nlocation = \"a\"\nlocation = \"b\"", 3, "(last key \"registry.location\"): key \"registry.location\" has already been defined (line 2)", "duplicate key in a table" },
        { "a = 1\na = 2", 2, "(last key \"a\")", "duplicate top-level key" },
        { "[a]\n[b]\n[a]", 3, "table \"a\" has already been defined (line 1)", "a table defined twice" },
        { "a = 1\n[a]", 2, "key \"a\" has already been defined as a integer", "a table over a value" },
        { "a = []\n[[a]]", 2, "cannot be an array of tables", "[[ ]] over a static array" },
        { "[[a]]\n[a]", 2, "table \"a\" has already been defined", "[ ] over an array of tables" },
        { "a = {b = 1}\n[a.c]", 2, "cannot hold tables", "an inline table is closed" },
        { "a = {b = 1}\na.c = 2", 2, "key \"a\" has already been defined", "an inline table is closed to dotted keys" },
        { "[a.b]\nc = 1\n[a]\nb.d = 2", 4, "key \"a.b\" has already been defined", "a dotted key cannot reopen a header table" },
        { "[a]\nb.c = 1\n[a.b]", 3, "table \"a.b\" has already been defined", "a header cannot reopen a dotted-key table" },
        { "a = \"unterminated\nb = 1", 1, "unterminated string", "a newline in a basic string" },
        { "a = 'unterminated", 1, "unterminated string", "a literal string at the end" },
        { "\n\na = \"\"\"never closed", 3, "unterminated multi-line string", "an open multi-line string" },
        { "a = \"bad \\x escape\"", 1, "invalid escape sequence \\x", "unknown escape" },
        { "a = \"\\uD800\"", 1, "not a Unicode scalar value", "a surrogate escape" },
        { "a = \"\\u12\"", 1, "expected 4 hex digits", "a short unicode escape" },
        { "a = \"tab\tok but bell\u0007 not\"", 1, "control character U+0007", "control characters must be escaped" },
        { "a = yes", 1, "invalid value yes (strings must be quoted)", "a bare word" },
        { "a = 1979-05-27", 1, "dates and times are not supported", "dates are refused, not misread" },
        { "a = 01", 1, "invalid value 01", "leading zero" },
        { "a = 1__0", 1, "invalid value 1__0", "double underscore" },
        { "a = 9223372036854775808", 1, "invalid value", "integer overflow" },
        { "a = \"x\" b = 1", 1, "expected a new line after the value", "two pairs on one line" },
        { "a = [1 2]", 1, "expected ',' or ']'", "missing comma in an array" },
        { "a = [1,\n2,\n", 3, "unterminated array", "array not closed" },
        { "a = {b = 1,\nc = 2}", 1, "must end on the line it starts", "inline tables are one line" },
        { "a = {b = 1,}", 1, "expected a key", "trailing comma in an inline table" },
        { "= 1", 1, "expected a key", "no key" },
        { "a 1", 1, "expected '=' after the key \"a\"", "no equals sign" },
        { "a =", 1, "expected a value", "no value" },
        { "a = truex", 1, "after a value", "a boolean with a tail" },
        { "\"\"\"k\"\"\" = 1", 1, "a multi-line string cannot be a key", "multi-line key" },
        { "a = 1 # bell\u0007", 1, "not allowed in a comment", "control character in a comment" },
        { "a = \"x\"\rb = 1", 1, "expected a new line", "a lone carriage return" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Errors_name_the_line(string text, int line, string message, string reason)
    {
        var act = () => TomlReader.Parse(text);
        var error = act.Should().Throw<TomlException>(reason).Which;
        error.Line.Should().Be(line, reason);
        error.Message.Should().StartWith($"toml: line {line}").And.Contain(message, reason);
    }
}
