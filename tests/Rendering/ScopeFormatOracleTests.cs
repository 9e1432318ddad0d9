using System.Text;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// The hand-written format rules of <see cref="ScopeRules"/> against the CRD patterns they stand
/// for, written here as the regexes MCO's patterns are: a table with a reason per row, and many
/// generated strings that must get the same answer from both.
/// </summary>
public sealed class ScopeFormatOracleTests
{
    private const string Label = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private const string HostPortPath =
        "(" + Label + "(?:(?:\\." + Label + ")+)?(?::[0-9]+)?)" +
        "(?:(?:/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?";
    private const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    private static readonly Regex SourcePattern = new("^\\*(?:\\." + Label + ")+\\z|^" + HostPortPath + "\\z", Options);
    private static readonly Regex MirrorPattern = new("^" + HostPortPath + "\\z", Options);
    private static readonly Regex WildcardPattern = new("^\\*(?:\\." + Label + ")+\\z", Options);
    private static readonly Regex HostPortPattern = new("^" + Label + "(?:\\." + Label + ")*(?::[0-9]+)?\\z", Options);

    public static TheoryData<string, bool, bool, string> Rows() => new()
    {
        // value, valid source, valid mirror, reason
        { "registry.example.com", true, true, "a plain host" },
        { "registry.example.com:5000/team/app", true, true, "host, port and path" },
        { "localhost/app", true, true, "one label is a host" },
        { "Registry.Example.COM/app", true, true, "the host may be upper case" },
        { "registry.example.com/App", false, false, "the path may not" },
        { "*.example.com", true, false, "a wildcard is a source, never a mirror" },
        { "*.example.com/app", false, false, "a wildcard has no path" },
        { "*", false, false, "a bare star" },
        { "*.", false, false, "a star and a dot" },
        { "", false, false, "empty" },
        { "-registry.example.com", false, false, "a label starts with a letter or digit" },
        { "registry-.example.com", false, false, "and ends with one" },
        { "registry..example.com", false, false, "an empty label" },
        { "registry.example.com.", false, false, "a trailing dot" },
        { "registry.example.com:", false, false, "a port needs digits" },
        { "registry.example.com:50a0", false, false, "and only digits" },
        { "registry.example.com/", false, false, "an empty path component" },
        { "registry.example.com//app", false, false, "two slashes" },
        { "r.example.com/a.b_c__d-e---f", true, true, "every separator" },
        { "r.example.com/a___b", false, false, "three underscores" },
        { "r.example.com/a._b", false, false, "two different separators" },
        { "r.example.com/a-", false, false, "a component ends with a letter or digit" },
        { "r.example.com/.a", false, false, "and starts with one" },
        { "r.example.com/app:latest", false, false, "a tag" },
        { "r.example.com/app@sha256:00", false, false, "a digest" },
        { "r.example.com/app\n", false, false, "a final newline" },
        { "r\u00e9.example.com", false, false, "a letter outside ASCII" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Format_rules_match_the_table(string value, bool source, bool mirror, string reason)
    {
        ScopeRules.IsValidSource(value).Should().Be(source, reason);
        ScopeRules.IsValidMirror(value).Should().Be(mirror, reason);
        SourcePattern.IsMatch(value).Should().Be(source, "the pattern agrees: " + reason);
        MirrorPattern.IsMatch(value).Should().Be(mirror, "the pattern agrees: " + reason);
    }

    [Fact]
    public void Format_rules_agree_with_the_patterns_on_generated_strings()
    {
        var random = new Random(20240611);
        var mismatches = new List<string>();
        for (var n = 0; n < 200_000 && mismatches.Count < 10; n++)
        {
            // Half near-valid (a well-formed value with up to two characters changed), half free-form.
            var value = n % 2 == 0 ? Mutate(random, WellFormed(random)) : FreeForm(random);
            if (ScopeRules.IsValidSource(value) != SourcePattern.IsMatch(value) ||
                ScopeRules.IsValidMirror(value) != MirrorPattern.IsMatch(value) ||
                ScopeRules.IsCleanScope(value) != (MirrorPattern.IsMatch(value) || WildcardPattern.IsMatch(value)) ||
                ScopeRules.IsRegistryHost(value) != HostPortPattern.IsMatch(value))
            {
                mismatches.Add(value);
            }
        }
        mismatches.Should().BeEmpty("the hand-written rules must accept exactly what the CRD patterns accept");
    }

    private const string Interesting = "aZ09-._:/*@ \n\u00e9";

    private static string WellFormed(Random random)
    {
        var sb = new StringBuilder(random.Next(4) == 0 ? "*." : "");
        for (var label = random.Next(1, 4); label > 0; label--)
        {
            sb.Append(Pick(random, ["a", "Z9", "r-1", "a--b", "registry", "0"])).Append(label > 1 ? "." : "");
        }
        if (random.Next(3) == 0)
        {
            sb.Append(':').Append(random.Next(0, 70000));
        }
        for (var component = random.Next(0, 4); component > 0; component--)
        {
            sb.Append('/').Append(Pick(random, ["a", "b0", "app"]));
            for (var run = random.Next(0, 3); run > 0; run--)
            {
                sb.Append(Pick(random, [".", "_", "__", "-", "---", ""])).Append(Pick(random, ["a", "9", "x1"]));
            }
        }
        return sb.ToString();
    }

    private static string Mutate(Random random, string value)
    {
        var sb = new StringBuilder(value);
        for (var edit = random.Next(0, 3); edit > 0; edit--)
        {
            var at = random.Next(0, sb.Length + 1);
            var c = Interesting[random.Next(Interesting.Length)];
            switch (random.Next(3))
            {
                case 0: sb.Insert(at, c); break;
                case 1 when at < sb.Length: sb[at] = c; break;
                case 2 when at < sb.Length: sb.Remove(at, 1); break;
            }
        }
        return sb.ToString();
    }

    private static string FreeForm(Random random)
    {
        var sb = new StringBuilder();
        for (var k = random.Next(0, 12); k > 0; k--)
        {
            sb.Append(Pick(random, ["a", "Z", "0", "ab", "-", "--", ".", "_", "__", "___", ":", "5000", "/", "//", "*", "*.", "@", "example.com", "\u00e9", "\n", " "]));
        }
        return sb.ToString();
    }

    private static string Pick(Random random, string[] choices) => choices[random.Next(choices.Length)];
}
