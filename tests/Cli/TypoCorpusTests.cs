using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// The typo corpus (<see cref="TypoCorpus"/>) through the real binary, each mutation on a node
/// that the unmutated examples configured first: a mistake is either refused (exit 2, an error
/// naming the file and line, every byte below the root as it was) or changes nothing (exit 0,
/// the same files). Never a node that silently loses mirrors, CAs or blocked registries.
/// </summary>
public sealed class TypoCorpusTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Cases(int shard)
    {
        var data = new TheoryData<string>();
        foreach (var mutation in TypoCorpus.All.Where((_, i) => i % 2 == shard))
        {
            data.Add(mutation.Name);
        }
        return data;
    }

    [Fact]
    public void The_corpus_has_at_least_sixty_mistakes_with_unique_names_and_controls_beside_them()
    {
        TypoCorpus.All.Select(m => m.Name).Should().OnlyHaveUniqueItems();
        TypoCorpus.All.Count(m => m.Outcome == TypoOutcome.Refused).Should().BeGreaterThanOrEqualTo(60);
        TypoCorpus.All.Where(m => m.Name.StartsWith("control:", StringComparison.Ordinal)).Should().HaveCountGreaterThanOrEqualTo(4);
    }

    [Theory]
    [MemberData(nameof(Cases), 0)]
    public void A_mistake_is_refused_naming_its_place_or_changes_nothing(string name) => Check(name);

    internal static void Check(string name)
    {
        var mutation = TypoCorpus.All.Single(m => m.Name == name);
        using var work = new TempRoot("node-agent-typo");
        var examples = Path.Join(work.Path, "examples");
        CopyDirectory(RepoPaths.Examples, examples);
        var root = Path.Join(work.Path, "root");
        var baseline = Run(examples, root);
        baseline.ExitCode.Should().Be(0, baseline.ToString());
        var rendered = EtcFiles(root);
        rendered.Should().ContainKey("etc/containers/registries.conf");
        var before = DirectorySnapshot.Of(root);

        mutation.Apply(examples);
        var result = Run(examples, root);

        var context = $"{TypoCorpus.Describe(mutation)}\n{result}";
        result.Stderr.Should().NotContain("Unhandled exception", context);
        if (mutation.Outcome == TypoOutcome.Harmless)
        {
            result.ExitCode.Should().Be(0, context);
            EtcFiles(root).Should().Equal(rendered, "the mistake changes nothing node-agent renders; " + context);
            return;
        }
        result.ExitCode.Should().Be(2, context);
        DirectorySnapshot.Of(root).Should().Equal(before, "on invalid input nothing below --root is created, changed or removed; " + context);
        var errors = result.StderrLines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        errors.Should().NotBeEmpty(context);
        if (mutation.File.Length == 0)
        {
            errors.Should().Contain(e => e.Contains("no image configuration objects", StringComparison.Ordinal), context);
            return;
        }
        var place = mutation.Line > 0 ? $"{Path.Join(examples, mutation.File)}:{mutation.Line}" : $"{Path.Join(examples, mutation.File)}:";
        errors.Should().Contain(e => e.StartsWith($"error: {place}", StringComparison.Ordinal), "the error names the file and line of the mistake; " + context);
    }

    private static ProcessResult Run(string manifests, string root) =>
        NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", root, "--reload-command", ""], timeout: Deadline);

    private static SortedDictionary<string, string> EtcFiles(string root) =>
        new(DirectorySnapshot.Of(root).Where(e => e.Key.StartsWith("etc/", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value), StringComparer.Ordinal);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Join(to, Path.GetFileName(file)));
        }
    }
}

/// <summary>The other half of the corpus, in a class of its own so xunit runs the halves in parallel.</summary>
public sealed class TypoCorpusTestsOtherHalf
{
    [Theory]
    [MemberData(nameof(TypoCorpusTests.Cases), 1, MemberType = typeof(TypoCorpusTests))]
    public void A_mistake_is_refused_naming_its_place_or_changes_nothing(string name) => TypoCorpusTests.Check(name);
}
