using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>The hand-written TOML and JSON writers and Go-style quoting, byte for byte.</summary>
public sealed class EncodingTests
{
    public static TheoryData<string, string, string> TomlStrings() => new()
    {
        { "plain", "\"plain\"", "plain text is unchanged" },
        { "a\"b", "\"a\\\"b\"", "a quote is escaped" },
        { "a\\b", "\"a\\\\b\"", "a backslash is escaped" },
        { "\b\t\n\f\r", "\"\\b\\t\\n\\f\\r\"", "the five short escapes" },
        { "\u0000\u0001\u001b\u001f", "\"\\u0000\\u0001\\u001b\\u001f\"", "other control characters as lower-case \\u00xx" },
        { "\u007f", "\"\\u007f\"", "DEL is escaped (TOML forbids it raw)" },
        { "é→😀", "\"é→😀\"", "non-ASCII stays UTF-8" },
        { "\ud800x", "\"\ufffdx\"", "a lone surrogate becomes U+FFFD" },
        { "x\"\n[[registry]]\nlocation = \"evil", "\"x\\\"\\n[[registry]]\\nlocation = \\\"evil\"", "an injection attempt stays one string" },
    };

    [Theory]
    [MemberData(nameof(TomlStrings))]
    public void Toml_basic_string(string value, string expected, string reason)
    {
        var sb = new StringBuilder();
        TomlWriter.AppendBasicString(sb, value);
        sb.ToString().Should().Be(expected, reason);
    }

    [Fact]
    public void Registries_conf_layout()
    {
        var config = new RegistriesConf();
        config.UnqualifiedSearchRegistries.AddRange(["a.io", "b.io"]);
        config.Registries.Add(new RegistryEntry { Location = "src.io/x", Blocked = true, Insecure = true, Mirrors = [new MirrorEndpoint("m.io/x", true, MirrorEndpoint.DigestOnly)] });
        config.Registries.Add(new RegistryEntry { Prefix = "*.w.io", Insecure = true });
        Encoding.UTF8.GetString(RegistriesConfEncoder.Encode(config)).Should().Be("""
            unqualified-search-registries = ["a.io", "b.io"]
            short-name-mode = ""
            additional-layer-store-auth-helper = ""

            [[registry]]
              prefix = ""
              location = "src.io/x"
              insecure = true
              blocked = true

              [[registry.mirror]]
                location = "m.io/x"
                insecure = true
                pull-from-mirror = "digest-only"

            [[registry]]
              prefix = "*.w.io"
              insecure = true

            """.Replace("\r", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Search_drop_in_with_an_empty_list()
    {
        Encoding.UTF8.GetString(RegistriesConfEncoder.EncodeSearchDropIn([])).Should().Be(
            "unqualified-search-registries = []\nshort-name-mode = \"\"\nadditional-layer-store-auth-helper = \"\"\n");
    }

    [Fact]
    public void Policy_json_sorts_keys_indents_and_escapes_like_go()
    {
        var node = JsonNode.Parse("""{"z":1,"a":[{"type":"x"}],"m":{},"e":[],"s":"<a&b>\u2028\n\t\u0001","n":1.50,"t":true,"u":null}""");
        Encoding.UTF8.GetString(PolicyJsonWriter.Write(node)).Should().Be("""
            {
              "a": [
                {
                  "type": "x"
                }
              ],
              "e": [],
              "m": {},
              "n": 1.50,
              "s": "\u003ca\u0026b\u003e\u2028\n\t\u0001",
              "t": true,
              "u": null,
              "z": 1
            }

            """.Replace("\r", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Policy_json_orders_keys_by_utf8_bytes()
    {
        // U+FF21 sorts before U+1F600 in UTF-8 bytes, though not in UTF-16 ordinal order.
        var node = new JsonObject { ["😀"] = 1, ["Ａ"] = 2 };
        Encoding.UTF8.GetString(PolicyJsonWriter.Write(node)).Should().Be("{\n  \"Ａ\": 2,\n  \"😀\": 1\n}\n");
    }

    public static TheoryData<string, string> GoQuotes() => new()
    {
        { "plain", "\"plain\"" },
        { "a\"b\\c", "\"a\\\"b\\\\c\"" },
        { "tab\there\n", "\"tab\\there\\n\"" },
        { "\u0000\u007f", "\"\\x00\\x7f\"" },
        { "trailing ", "\"trailing \"" },
        { "é", "\"é\"" },
        { "\u202e", "\"\\u202e\"" },
    };

    [Theory]
    [MemberData(nameof(GoQuotes))]
    public void Go_quote(string value, string expected) => GoQuote.Quote(value).Should().Be(expected);
}
