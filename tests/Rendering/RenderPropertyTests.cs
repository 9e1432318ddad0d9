using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using NodeAgent.Rendering;
using NodeAgent.Resources;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Invariants over random clusters: the order of objects and of mirror-set entries never changes
/// the bytes (only list order inside an object's fields matters, as the spec says).
/// </summary>
public sealed class RenderPropertyTests
{
    private static readonly string[] Sources =
        ["quay.io/a", "quay.io/a/b", "quay.io/c", "registry.io", "registry.io/x/y", "docker.io/library/busybox", "*.wild.io"];

    private static readonly string[] Mirrors =
        ["m1.example.com/a", "m2.example.com", "m3.example.com:5000/z", "mirror.local/a", "quay.io/a", "registry.io/x/y"];

    private static readonly string[] Scopes =
        ["quay.io", "quay.io/a/b/blocked", "*.example.com", "m2.example.com", "registry.io/x", "other.io"];

    [Fact]
    public void Object_and_entry_order_never_change_the_output()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            var snapshot = RandomSnapshot(random);
            var expected = Renderer.Render(new ClusterInputs { Snapshot = snapshot });
            var shuffled = Renderer.Render(new ClusterInputs { Snapshot = Shuffle(snapshot, random) });
            shuffled.RegistriesConf.Should().Equal(expected.RegistriesConf, $"seed {seed}");
            shuffled.PolicyJson.Should().Equal(expected.PolicyJson, $"seed {seed}");
            shuffled.HasErrors.Should().Be(expected.HasErrors, $"seed {seed}");
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Rendering_twice_gives_the_same_bytes()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var inputs = new ClusterInputs { Snapshot = RandomSnapshot(new Random(seed)) };
            var first = Renderer.Render(inputs);
            var second = Renderer.Render(inputs);
            second.RegistriesConf.Should().Equal(first.RegistriesConf);
            second.PolicyJson.Should().Equal(first.PolicyJson);
            second.Problems.Should().Equal(first.Problems);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Invalid_input_is_reported_never_thrown()
    {
        // Random strings from a hostile alphabet in every position: the render must report, not crash.
        const string alphabet = "ab.:/*@\"\\\n\t -_AZ09é\u0000";
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            string Junk() => new(Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var snapshot = new ClusterSnapshot
            {
                Image = ImageWith([Junk(), Junk()], [Junk()], random.Next(2) == 0 ? [] : [Junk()]),
                ImageDigestMirrorSets = [Idms("x", [new ImageMirrors { Source = Junk(), Mirrors = [Junk(), Junk()], MirrorSourcePolicy = random.Next(3) == 0 ? Junk() : null }])],
                ImageTagMirrorSets = [Itms("y", [new ImageMirrors { Source = Junk(), Mirrors = [Junk()] }])],
            };
            var act = () => Renderer.Render(new ClusterInputs { Snapshot = snapshot, ReleaseImageOverride = random.Next(2) == 0 ? Junk() : null });
            act.Should().NotThrow($"seed {seed}");
        }).QuickCheckThrowOnFailure();
    }

    private static ClusterSnapshot RandomSnapshot(Random random)
    {
        List<ImageMirrors> Entries(bool withPolicy) => Enumerable.Range(0, random.Next(0, 4)).Select(_ => new ImageMirrors
        {
            Source = Pick(random, Sources),
            Mirrors = Enumerable.Range(0, random.Next(0, 4)).Select(_ => Pick(random, Mirrors)).Distinct().ToList(),
            // One policy per source keeps most random clusters valid (a conflict is an error).
            MirrorSourcePolicy = withPolicy ? MirrorSourcePolicy.NeverContactSource : null,
        }).ToList();
        return new ClusterSnapshot
        {
            Image = ImageWith(
                Enumerable.Range(0, random.Next(0, 3)).Select(_ => Pick(random, Scopes)).ToList(),
                Enumerable.Range(0, random.Next(0, 3)).Select(_ => Pick(random, Scopes)).ToList(),
                []),
            ImageDigestMirrorSets = Enumerable.Range(0, random.Next(0, 4)).Select(i => Idms($"idms-{i}", Entries(false))).ToList(),
            ImageContentSourcePolicies = Enumerable.Range(0, random.Next(0, 3)).Select(i => new ImageContentSourcePolicy
            {
                Metadata = new ObjectMeta { Name = $"icsp-{i}" },
                Spec = new ImageContentSourcePolicySpec
                {
                    RepositoryDigestMirrors = Entries(false).Select(e => (RepositoryDigestMirrors?)new RepositoryDigestMirrors { Source = e.Source, Mirrors = e.Mirrors }).ToList(),
                },
            }).ToList(),
            ImageTagMirrorSets = Enumerable.Range(0, random.Next(0, 3)).Select(i => Itms($"itms-{i}", Entries(false))).ToList(),
        };
    }

    private static ClusterSnapshot Shuffle(ClusterSnapshot snapshot, Random random) => snapshot with
    {
        ImageDigestMirrorSets = Shuffled(snapshot.ImageDigestMirrorSets, random)
            .Select(o => o with { Spec = new ImageDigestMirrorSetSpec { ImageDigestMirrors = Shuffled(o.Spec!.ImageDigestMirrors!, random) } }).ToList(),
        ImageContentSourcePolicies = Shuffled(snapshot.ImageContentSourcePolicies, random)
            .Select(o => o with { Spec = new ImageContentSourcePolicySpec { RepositoryDigestMirrors = Shuffled(o.Spec!.RepositoryDigestMirrors!, random) } }).ToList(),
        ImageTagMirrorSets = Shuffled(snapshot.ImageTagMirrorSets, random)
            .Select(o => o with { Spec = new ImageTagMirrorSetSpec { ImageTagMirrors = Shuffled(o.Spec!.ImageTagMirrors!, random) } }).ToList(),
    };

    private static List<T> Shuffled<T>(IEnumerable<T> items, Random random) => items.OrderBy(_ => random.Next()).ToList();

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    private static ImageConfig ImageWith(List<string> insecure, List<string> blocked, List<string> allowed) => new()
    {
        Metadata = new ObjectMeta { Name = "cluster" },
        Spec = new ImageSpec
        {
            RegistrySources = new RegistrySources
            {
                InsecureRegistries = insecure.Cast<string?>().ToList(),
                BlockedRegistries = blocked.Cast<string?>().ToList(),
                AllowedRegistries = allowed.Cast<string?>().ToList(),
            },
        },
    };

    private static ImageDigestMirrorSet Idms(string name, List<ImageMirrors> entries) => new()
    {
        Metadata = new ObjectMeta { Name = name },
        Spec = new ImageDigestMirrorSetSpec { ImageDigestMirrors = entries.Cast<ImageMirrors?>().ToList() },
    };

    private static ImageTagMirrorSet Itms(string name, List<ImageMirrors> entries) => new()
    {
        Metadata = new ObjectMeta { Name = name },
        Spec = new ImageTagMirrorSetSpec { ImageTagMirrors = entries.Cast<ImageMirrors?>().ToList() },
    };
}
