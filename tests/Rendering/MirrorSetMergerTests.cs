using FluentAssertions;
using NodeAgent.Rendering;
using NodeAgent.Resources;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>Table tests of the mirror merge (runtime-utils topo sort), a reason per row.</summary>
public sealed class MirrorSetMergerTests
{
    private const string Source = "source.example.com/repo";

    public static TheoryData<string[][], string[], string> Merges() => new()
    {
        { [["a", "b"]], ["a", "b"], "one list keeps its order" },
        { [["b", "c"], ["a", "b"]], ["a", "b", "c"], "compatible lists are merged" },
        { [["z1", "y2"], ["y2", "x3"]], ["z1", "y2", "x3"], "a shared element forces the order, not byte order" },
        { [["registry2.vendor.com"], ["local-mirror.example.com"]], ["local-mirror.example.com", "registry2.vendor.com"], "unrelated lists interleave in byte order" },
        { [["a", "b"], ["c"]], ["a", "c", "b"], "FIFO queue: c is queued before b becomes free (a heap would give a, b, c)" },
        { [["b", "a"], ["a", "b"]], ["a", "b"], "a cycle is broken at the byte-smallest node" },
        { [["a", "b"], ["a", "b"]], ["a", "b"], "duplicate edges collapse" },
        { [["m1", Source, "m2"]], ["m1", Source, "m2"], "a source inside a list stays in place" },
        { [["m1", Source]], ["m1"], "a source listed last is dropped: it is tried last anyway" },
        { [[Source, "zz.mirror"], ["zz.mirror", Source]], [Source, "zz.mirror"], "a cycle broken at the source leaves it first (quirk Q3)" },
        { [[Source, "m1"], ["m1", Source]], ["m1"], "a cycle broken at a smaller mirror drops the source as usual" },
        { [["a", "a"]], ["a"], "a repeated mirror appears once" },
        { [["c", "b", "a"]], ["c", "b", "a"], "a given order wins over byte order" },
        { [["x"], ["y"], ["w"]], ["w", "x", "y"], "three unrelated mirrors in byte order" },
        { [["a", "b"], ["b", "c"], ["c", "a"]], ["a", "b", "c"], "a three-node cycle broken at a" },
    };

    [Theory]
    [MemberData(nameof(Merges))]
    public void Merge_order(string[][] lists, string[] expected, string reason)
    {
        var entries = lists.Select((l, i) => new MirrorSetEntry(Source, l, MirrorSourcePolicy.AllowContactingSource, new FieldRef($"IDMS/{i}", ""))).ToList();
        var merged = MirrorSetMerger.Merge(entries);
        merged.Should().ContainSingle();
        merged[0].Mirrors.Should().Equal(expected, reason);
    }

    [Fact]
    public void Merge_result_does_not_depend_on_list_order()
    {
        string[][] lists = [["m3", "m1"], ["m2"], ["m1", "m4"], ["m5", "m3"]];
        var expected = Merge(lists);
        foreach (var permutation in Permutations(lists))
        {
            Merge(permutation).Should().Equal(expected);
        }
    }

    [Fact]
    public void Entries_without_a_real_mirror_are_ignored_with_their_policy()
    {
        var merged = MirrorSetMerger.Merge(
        [
            new MirrorSetEntry(Source, [], MirrorSourcePolicy.NeverContactSource, new FieldRef("a", "")),
            new MirrorSetEntry(Source, [Source], MirrorSourcePolicy.NeverContactSource, new FieldRef("b", "")),
        ]);
        merged.Should().BeEmpty("Q1: no real mirror means the entry and its NeverContactSource are dropped");
    }

    [Fact]
    public void NeverContactSource_on_any_real_entry_marks_the_source()
    {
        var merged = MirrorSetMerger.Merge(
        [
            new MirrorSetEntry(Source, ["m1"], MirrorSourcePolicy.AllowContactingSource, new FieldRef("a", "")),
            new MirrorSetEntry(Source, ["m2"], MirrorSourcePolicy.NeverContactSource, new FieldRef("b", "")),
        ]);
        merged.Should().ContainSingle().Which.NeverContactSource.Should().BeTrue();
    }

    [Fact]
    public void Sources_come_out_in_byte_order()
    {
        var merged = MirrorSetMerger.Merge(
        [
            new MirrorSetEntry("b.io/x", ["m"], MirrorSourcePolicy.AllowContactingSource, new FieldRef("a", "")),
            new MirrorSetEntry("B.io/x", ["m"], MirrorSourcePolicy.AllowContactingSource, new FieldRef("a", "")),
            new MirrorSetEntry("a.io/x", ["m"], MirrorSourcePolicy.AllowContactingSource, new FieldRef("a", "")),
        ]);
        merged.Select(m => m.Source).Should().Equal("B.io/x", "a.io/x", "b.io/x");
    }

    private static IReadOnlyList<string> Merge(IEnumerable<string[]> lists) =>
        MirrorSetMerger.Merge(lists.Select(l => new MirrorSetEntry(Source, l, MirrorSourcePolicy.AllowContactingSource, new FieldRef("x", ""))).ToList())[0].Mirrors;

    private static IEnumerable<T[]> Permutations<T>(T[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (var i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }
}
