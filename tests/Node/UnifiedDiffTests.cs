using System.Text;
using FluentAssertions;
using NodeAgent.Node;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Node;

/// <summary>
/// The dry-run diff is a real unified diff: GNU <c>patch</c> applies it and reproduces the new
/// file exactly (several minimal diffs exist for most edits, so byte equality with
/// <c>diff -u</c> is not the test; what a user does with the diff is).
/// </summary>
public sealed class UnifiedDiffTests
{
    [Fact]
    public void Gnu_patch_applies_it_on_random_edits()
    {
        var random = new Random(20261122);
        for (var round = 0; round < 60; round++)
        {
            var before = RandomLines(random, random.Next(0, 40));
            var after = Mutate(random, before);
            var endsBefore = random.Next(5) != 0;
            var endsAfter = random.Next(5) != 0;
            var a = Join(before, endsBefore);
            var b = Join(after, endsAfter);
            if (a == b)
            {
                continue;
            }
            var diff = UnifiedDiff.Format("etc/x.conf", Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
            Patch(a, diff).Should().Be(b, $"round {round}: patch must turn the old file into the new one\n{diff}");
            Hunks(diff).Should().Be(Hunks(GnuDiff(a, b)), $"round {round}: as many hunks as diff -u makes\n{diff}");
        }
    }

    [Fact]
    public void The_one_line_form_keeps_the_hunks_bounded_and_escaped()
    {
        var ours = Encoding.UTF8.GetBytes("a\nb\nc\n");
        var theirs = Encoding.UTF8.GetBytes("a\nB \\ " + new string('x', 300) + "\r\nc\n");

        var line = UnifiedDiff.OneLine("etc/x.conf", ours, theirs);

        line.Should().NotContain("\n").And.NotContain("\r").And.NotContain("--- a/etc/x.conf");
        line.Should().StartWith(@"@@ -1,3 +1,3 @@\n a\n");
        line.Should().Contain(@"+B \\ xxx").And.Contain("x…").And.NotContain(new string('x', UnifiedDiff.MaxLineLength));
        line.Should().Contain(@"-b");

        var replaced = UnifiedDiff.OneLine("etc/x.conf", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 90).Select(i => $"ours {i}\n"))), Encoding.UTF8.GetBytes("theirs\n"));
        replaced.Should().Be(@"@@ -1,90 +1 @@\n-ours 0\n-ours 1\n-ours 2\n… 87 more removed lines\n+theirs", "what the other writer wrote stays in view");

        var many = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 50).Select(i => $"{i}\n")));
        UnifiedDiff.OneLine("etc/x.conf", null, many, maxLines: 5).Should().Be(@"@@ -0,0 +1,50 @@\n+0\n+1\n+2\n+3\n… 46 more lines");
    }

    [Fact]
    public void Created_and_removed_files_use_dev_null()
    {
        UnifiedDiff.Format("etc/containers/x.conf", null, Encoding.UTF8.GetBytes("a\nb\n")).Should().Be(
            "--- /dev/null\n+++ b/etc/containers/x.conf\n@@ -0,0 +1,2 @@\n+a\n+b\n");
        UnifiedDiff.Format("etc/containers/x.conf", Encoding.UTF8.GetBytes("a\n"), null).Should().Be(
            "--- a/etc/containers/x.conf\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n");
    }

    private static int Hunks(string diff) => diff.Split('\n').Count(l => l.StartsWith("@@ ", StringComparison.Ordinal));

    private static string Patch(string original, string diff)
    {
        using var dir = new TempRoot("patch");
        File.WriteAllText(dir.File("old"), original);
        File.WriteAllText(dir.File("change.diff"), diff);
        var result = NodeAgentProcess.RunProgram("patch", ["--quiet", "--force", "-o", dir.File("new"), dir.File("old"), dir.File("change.diff")]);
        result.ExitCode.Should().Be(0, result.ToString() + "\n" + diff);
        return File.ReadAllText(dir.File("new"));
    }

    private static string GnuDiff(string a, string b)
    {
        using var dir = new TempRoot("diff");
        File.WriteAllText(dir.File("a"), a);
        File.WriteAllText(dir.File("b"), b);
        var result = NodeAgentProcess.RunProgram("diff", ["-u", dir.File("a"), dir.File("b")]);
        result.ExitCode.Should().Be(1, result.Stderr);
        return result.Stdout;
    }

    private static List<string> RandomLines(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => "line " + random.Next(0, 12)).ToList();

    private static List<string> Mutate(Random random, List<string> lines)
    {
        var result = new List<string>(lines);
        for (var edits = random.Next(1, 6); edits > 0; edits--)
        {
            var at = random.Next(0, result.Count + 1);
            switch (random.Next(3))
            {
                case 0: result.Insert(at, "new " + random.Next(0, 5)); break;
                case 1 when at < result.Count: result.RemoveAt(at); break;
                default: if (at < result.Count) { result[at] = "changed " + random.Next(0, 5); } break;
            }
        }
        return result;
    }

    private static string Join(List<string> lines, bool finalNewline) =>
        lines.Count == 0 ? "" : string.Join('\n', lines) + (finalNewline ? "\n" : "");
}
