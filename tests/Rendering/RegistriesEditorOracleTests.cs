using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>The fast editor against the plain transcription of upstream's loops, on random scopes.</summary>
public sealed class RegistriesEditorOracleTests
{
    // Hosts, ports, paths and wildcards that nest in each other in many ways.
    private static readonly string[] Scopes =
    [
        "a.io", "a.io/x", "a.io/x/y", "a.io:5000", "a.io:5000/x", "b.a.io", "c.b.a.io/z", "*.a.io", "*.b.a.io",
        "m.io", "m.io/a.io", "*.m.io", "x.m.io/p", "a.io/x/y/z", "*.io", "io", "b.io:1/q", "*.",
    ];

    private static readonly string[] MirrorScopes = [.. Scopes.Where(s => !s.StartsWith('*'))];

    [Fact]
    public void Enclosing_scopes_are_exactly_the_scopes_a_scope_is_nested_in()
    {
        foreach (var sub in Scopes.Concat(["x:y/z", "a/b:c", "h.i.j:80/k/l", "", "/", "."]))
        {
            foreach (var super in Scopes.Concat(Scopes.Select(s => s + "/k")).Concat(["x", "a", "*.i.j", "*.j", "h.i.j:80/k", "a/b"]))
            {
                ScopeRules.EnclosingScopes(sub).Contains(super).Should().Be(ScopeRules.IsNestedInside(sub, super), $"sub {sub}, super {super}");
            }
        }
    }

    [Fact]
    public void Fast_editor_matches_the_reference_loops()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            List<string> Pick(string[] from, int max) => Enumerable.Range(0, random.Next(0, max)).Select(_ => from[random.Next(from.Length)]).ToList();
            List<MergedMirrorSet> Sets() => Pick(Scopes, 4).Distinct().Order(ByteOrder.Instance)
                .Select(s => new MergedMirrorSet(s, Pick(MirrorScopes, 3).Distinct().DefaultIfEmpty("mirror.example/z").ToList(), random.Next(4) == 0, false)).ToList();
            var insecure = Pick(Scopes, 5);
            var blocked = Pick(Scopes, 5);
            var digest = Sets();
            var tag = Sets();

            var expected = ReferenceEditor.Edit(insecure, blocked, digest, tag);
            var actual = new RegistriesConf();
            var problems = new List<Problem>();
            RegistriesEditor.Edit(actual, Entries(insecure), Entries(blocked), digest, tag, new Dictionary<string, FieldRef>(), problems);

            RegistriesConfEncoder.Encode(actual).Should().Equal(RegistriesConfEncoder.Encode(expected.Config), $"seed {seed}");
            problems.Where(p => p.IsError).Select(p => p.Message.Split('"')[1]).Should().BeEquivalentTo(expected.Errors.Distinct(),
                $"seed {seed}: one error per wildcard parent with a mirror-less child");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000));
    }

    private static List<ScopeEntry> Entries(IEnumerable<string> scopes) => scopes.Select(s => new ScopeEntry(s, new FieldRef("Image/cluster", "x"))).ToList();
}
