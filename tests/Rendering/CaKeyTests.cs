using FluentAssertions;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// The one key → certs.d directory mapping (certs.md "Key → directory"): every row says why it
/// is accepted or refused. A refused key must never become a directory name.
/// </summary>
public sealed class CaKeyTests
{
    public static TheoryData<string, string, string> ValidKeys => new()
    {
        { "registry.example.com", "registry.example.com", "a key without \"..\" is a bare host" },
        { "registry.example.com..5000", "registry.example.com:5000", "\"..\" separates host and port" },
        { "10.0.0.1..443", "10.0.0.1:443", "an IPv4 address with a port" },
        { "10.0.0.1", "10.0.0.1", "an IPv4 address alone" },
        { "image-registry.openshift-image-registry.svc..5000", "image-registry.openshift-image-registry.svc:5000", "the managed service-CA key form; inner '-' is fine" },
        { "localhost..5000", "localhost:5000", "a single-label host" },
        { "localhost", "localhost", "a single label without a port" },
        { "registry.example.com..1", "registry.example.com:1", "port 1 is the lowest port" },
        { "registry.example.com..65535", "registry.example.com:65535", "port 65535 is the highest port" },
        { "Registry.Example.COM..443", "Registry.Example.COM:443", "letters of either case, kept byte for byte (containers/image compares bytes)" },
        { "reg.example..443", "reg.example:443", "a port is never stripped, not even 443" },
        { "0.0.0.0", "0.0.0.0", "the all-zero IPv4 address is still an address" },
        { "255.255.255.255..5000", "255.255.255.255:5000", "the highest IPv4 octets" },
        { "1a.example", "1a.example", "a label may start with a digit" },
        { "xn--rgistry-bya.example..5000", "xn--rgistry-bya.example:5000", "punycode is plain ASCII: the IDN form to use instead of \"r\u00E9gistry\"" },
        { "r-1.example", "r-1.example", "an inner hyphen" },
        { new string('a', 63) + ".example", new string('a', 63) + ".example", "a 63-character label is the longest allowed" },
        { Host253(), Host253(), "a 253-character host is the longest allowed" },
        { Host253() + "..5000", Host253() + ":5000", "the 253-character limit applies to the host, not the port" },
    };

    public static TheoryData<string, string> HostileKeys => new()
    {
        { "../x", "a path climbing out of certs.d" },
        { "../../etc/passwd", "a deeper climb" },
        { "a/b", "a path separator would make a nested directory" },
        { "/etc", "an absolute path" },
        { "..", "only the separator: empty host and empty port" },
        { ".", "the current directory" },
        { "", "an empty key" },
        { "a..b..5000", "more than one \"..\"" },
        { "a..b..c", "more than one \"..\", no numeric port" },
        { "a...5000", "three dots: a second \"..\" overlaps the first" },
        { "..5000", "a port without a host" },
        { "a..", "a separator without a port" },
        { "registry.example.com..0", "port 0 is not a port" },
        { "registry.example.com..65536", "one past the highest port" },
        { "registry.example.com..99999", "far past the highest port" },
        { "registry.example.com..05000", "a leading zero would make a second directory name for the same port" },
        { "registry.example.com..+5000", "a sign is not a digit" },
        { "registry.example.com..5000 ", "a trailing space in the port" },
        { "registry.example.com..http", "a port must be a number" },
        { "registry.example.com..\uFF15\uFF10\uFF10\uFF10", "full-width digits are not ASCII digits" },
        { "r\u00E9gistry.example", "non-ASCII letters (IDNs must come as punycode)" },
        { "\u202Eelpmaxe.yrtsiger", "a right-to-left override could make a log line lie" },
        { "registry\u200B.example", "a zero-width space" },
        { "registry example.com", "an inner space" },
        { " registry.example.com", "a leading space" },
        { "registry.example.com ", "a trailing space" },
        { "registry.example.com\n", "a trailing newline" },
        { "reg\tistry.example", "a tab" },
        { "reg\u0000istry.example", "a NUL byte" },
        { "reg\u001Bistry.example", "an escape character" },
        { "reg\u007Fistry.example", "DEL" },
        { "*", "a wildcard is not a host" },
        { "*.example.com", "a wildcard label" },
        { "a_b", "an underscore is not a DNS host character" },
        { "reg:5000", "a colon: the key form of a port is \"..\"" },
        { "[::1]..5000", "IPv6 is not accepted" },
        { "-registry.example", "a label starting with '-'" },
        { "registry-.example", "a label ending with '-'" },
        { "registry.-example", "an inner label starting with '-'" },
        { new string('a', 64) + ".example", "a 64-character label" },
        { Host253() + "b", "a 254-character host" },
        { "registry.example.com.", "a trailing dot leaves an empty label" },
        { ".registry.example.com", "a leading dot leaves an empty label" },
        { "999.1.1.1", "an all-numeric name must be a real IPv4 address" },
        { "256.0.0.1", "one past the highest octet" },
        { "1.2.3.4.5", "five numeric labels are not an IPv4 address" },
        { "1.2.3", "three numeric labels are not an IPv4 address" },
        { "010.0.0.1", "a leading zero in an octet (octal to some parsers)" },
        { "5000", "a lone number is neither a DNS name nor an IPv4 address" },
    };

    [Theory]
    [MemberData(nameof(ValidKeys))]
    public void A_registry_key_maps_to_its_directory(string key, string expected, string why)
    {
        CaKey.TryMap(key, out var directory, out var reason).Should().BeTrue($"{why} (refused with: {reason})");
        directory.Should().Be(expected, why);
        reason.Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(HostileKeys))]
    public void A_hostile_key_is_refused_with_a_reason(string key, string why)
    {
        CaKey.TryMap(key, out var directory, out var reason).Should().BeFalse($"{why}: {GoQuote.Quote(key)} must be refused, got {directory}");
        directory.Should().BeNull();
        reason.Should().NotBeNullOrWhiteSpace("the warning has to say why the key was skipped");
    }

    [Fact]
    public void More_than_one_separator_says_so()
    {
        CaKey.TryMap("a..b..5000", out _, out var reason).Should().BeFalse();
        reason.Should().Contain("more than one \"..\"");
    }

    [Fact]
    public void A_bad_port_names_the_port()
    {
        CaKey.TryMap("registry.example.com..99999", out _, out var reason).Should().BeFalse();
        reason.Should().Contain("\"99999\"").And.Contain("1 to 65535");
    }

    [Fact]
    public void Control_characters_in_a_reason_are_escaped()
    {
        CaKey.TryMap("reg\nistry.example", out _, out var reason).Should().BeFalse();
        reason.Should().NotContain("\n", "a key must not be able to forge a second log line");
        CaKey.TryMap("\u202Eelpmaxe", out _, out reason).Should().BeFalse();
        reason.Should().NotContain("\u202E", "a bidirectional override must not reach the log verbatim");
    }

    [Fact]
    public void No_accepted_key_can_name_a_path()
    {
        var alphabet = new[] { "a", "1", ".", "..", "-", "/", ":", "_", "0", "9", "z" };
        var random = new Random(20260);
        for (var i = 0; i < 20_000; i++)
        {
            var key = string.Concat(Enumerable.Range(0, random.Next(1, 9)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            if (!CaKey.TryMap(key, out var directory, out _))
            {
                continue;
            }
            directory.Should().NotContain("/", key).And.NotContain("..", key).And.NotBe(".", key).And.NotBeEmpty(key);
            directory.Should().MatchRegex("^[A-Za-z0-9.-]+(:[1-9][0-9]{0,4})?$", key);
            directory.Split(':')[0].Split('.').Should().NotContain(l => l.Length == 0 || l.StartsWith('-') || l.EndsWith('-'), key);
        }
    }

    // Four labels of 63, 63, 63 and 61 characters with three dots: exactly 253.
    private static string Host253() =>
        string.Join('.', new string('a', 63), new string('b', 63), new string('c', 63), new string('d', 61));
}
