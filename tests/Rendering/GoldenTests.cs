using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Every case under <c>tests/testdata/registries/</c> (<see cref="GoldenCase"/>): node-agent run as
/// a user runs it on the case's manifests must write exactly the expected files (or, for exit 2,
/// nothing at all) and print the expected stderr lines. <c>make golden</c> rewrites the expected
/// files from the current output for review; it never touches exit-code or stderr expectations.
/// Each case is also complete (it says which rule it shows and why), and every quirk of MCO the
/// README lists has a case.
/// </summary>
public sealed partial class GoldenTests
{
    public const string Area = "registries";

    /// <summary>What a case directory may hold: what <see cref="GoldenCase"/> and the consumer tests read.</summary>
    private static readonly string[] CaseEntries =
        ["case.md", "input", "expected", "exit-code", "stderr", "args", "consumer-rejects", "consumer-inert-scopes"];

    private static string CasesRoot => Path.Join(RepoPaths.TestData, Area);

    public static TheoryData<string> Cases() => GoldenCase.Names(Area);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_renders_exactly_the_expected_files(string name) => GoldenCase.Run(Area, name, []);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_is_complete_and_says_which_rule_it_shows_and_why(string name)
    {
        var dir = Path.Join(CasesRoot, name);
        Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Should().BeSubsetOf(CaseEntries,
            $"case {name} holds only what the golden and consumer tests read (anything else is a misspelt name they would ignore)");
        var why = File.ReadAllLines(Path.Join(dir, "case.md"));
        foreach (var heading in new[] { "Rule: ", "Why: ", "Source: " })
        {
            why.Should().Contain(line => line.StartsWith(heading, StringComparison.Ordinal) && line.Length > heading.Length + 10,
                $"case {name}'s case.md has a '{heading.Trim()}' line");
        }
        Directory.EnumerateFiles(Path.Join(dir, "input"), "*", SearchOption.AllDirectories)
            .Where(file => Path.GetExtension(file) is ".yaml" or ".yml" or ".json")
            .Should().NotBeEmpty($"case {name} renders from manifests in input/");

        var exitCodeFile = Path.Join(dir, "exit-code");
        if (File.Exists(exitCodeFile))
        {
            File.ReadAllText(exitCodeFile).Trim().Should().Be("2", $"case {name}: a case that is not a success is invalid input (exit 2)");
            Directory.Exists(Path.Join(dir, "expected")).Should().BeFalse($"case {name}: on invalid input nothing is written, so there is nothing to expect");
            File.ReadAllLines(Path.Join(dir, "stderr")).Where(line => line.Length > 0)
                .Should().NotBeEmpty($"case {name}: invalid input is refused naming the problem, and the case says which");
        }
        else
        {
            foreach (var file in new[] { "registries.conf", "policy.json" })
            {
                File.Exists(Path.Join(dir, "expected", "etc", "containers", file)).Should().BeTrue($"case {name} renders, so it writes {file}");
            }
        }
    }

    [Fact]
    public void Every_quirk_in_the_README_has_a_case_that_names_it()
    {
        var quirks = QuirkRow().Matches(File.ReadAllText(Path.Join(RepoPaths.Root, "README.md")))
            .Select(m => (Id: m.Groups["id"].Value, Text: m.Groups["text"].Value.Trim())).ToList();
        quirks.Select(q => q.Id).Should().Contain(["Q1", "Q10"], "the README's table lists MCO's quirks Q1 to Q10");
        var named = Directory.EnumerateDirectories(CasesRoot).ToDictionary(
            dir => Path.GetFileName(dir),
            dir => QuirkName().Matches(File.ReadAllText(Path.Join(dir, "case.md"))).Select(m => m.Value).ToHashSet(StringComparer.Ordinal));

        foreach (var (id, text) in quirks)
        {
            named.Where(c => c.Value.Contains(id)).Select(c => c.Key)
                .Should().NotBeEmpty($"quirk {id} ({text}) is kept, so a golden case shows it and its case.md names {id}");
        }
    }

    // A row of the README's quirk table: | Q4 | a nested child … | same; warning |
    [GeneratedRegex(@"^\| (?<id>Q[0-9]+) \| (?<text>[^|]+)\|", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex QuirkRow();

    [GeneratedRegex(@"\bQ[0-9]+\b", RegexOptions.CultureInvariant)]
    private static partial Regex QuirkName();
}
