using System.Text;
using FluentAssertions;
using NodeAgent.Impact;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Impact;

/// <summary>Per-scope pull changes and policy verdict changes, one kind of change per test.</summary>
public sealed class PullImpactTests
{
    private const string Source = "quay.io/team/app";

    [Fact]
    public void A_new_entry_shows_where_digest_and_tag_pulls_now_go()
    {
        var impact = Single(Conf(), Conf(Entry(Mirror("m1/app", "digest-only"), Mirror("m2/app"))));

        impact.Changes.Should().Equal(new ScopeChange("entry-added", "2 mirror(s)"));
        impact.DigestBefore.Endpoints.Should().Equal(Source);
        impact.DigestAfter.Endpoints.Should().Equal("m1/app", "m2/app", Source);
        impact.TagBefore.Endpoints.Should().Equal(Source);
        impact.TagAfter.Endpoints.Should().Equal("m2/app", Source);
    }

    [Fact]
    public void Mirrors_added_removed_and_reordered_are_each_named()
    {
        var impact = Single(Conf(Entry(Mirror("a"), Mirror("b"), Mirror("c"))), Conf(Entry(Mirror("c"), Mirror("a"), Mirror("d"))));

        impact.Changes.Should().Equal(
            new ScopeChange("mirror-added", "d"),
            new ScopeChange("mirror-removed", "b"),
            new ScopeChange("mirrors-reordered", "c, a"));
        impact.TagAfter.Endpoints.Should().Equal("c", "a", "d", Source);
    }

    [Fact]
    public void Only_a_reorder_is_reported_as_one()
    {
        Single(Conf(Entry(Mirror("a"), Mirror("b"))), Conf(Entry(Mirror("b"), Mirror("a")))).Changes
            .Should().Equal(new ScopeChange("mirrors-reordered", "b, a"));
    }

    [Fact]
    public void A_newly_blocked_source_leaves_only_the_mirrors()
    {
        var impact = Single(Conf(Entry(Mirror("m1", "digest-only"))), Conf(Entry(blocked: true, Mirror("m1", "digest-only"))));

        impact.Changes.Should().Equal(new ScopeChange("blocked", Source));
        impact.DigestAfter.Should().BeEquivalentTo(new PullOrder(["m1"], SourceBlocked: true));
        impact.TagAfter.Endpoints.Should().BeEmpty("a tag pull has no mirror and the source is blocked");
    }

    [Fact]
    public void Insecure_flips_of_the_source_and_of_a_mirror_are_reported()
    {
        var before = Conf(Entry(Mirror("m1")));
        var after = Conf(new RegistryEntry { Prefix = "", Location = Source, Insecure = true, Mirrors = [new MirrorEndpoint("m1", true, "")] });

        Single(before, after).Changes.Should().Equal(new ScopeChange("insecure", Source), new ScopeChange("mirror-insecure", "m1"));
    }

    [Fact]
    public void A_pull_from_mirror_change_moves_tag_pulls_off_the_mirror()
    {
        var impact = Single(Conf(Entry(Mirror("m1"))), Conf(Entry(Mirror("m1", "digest-only"))));

        impact.Changes.Should().Equal(new ScopeChange("mirror-pull-from-mirror", "m1: all → digest-only"));
        impact.TagBefore.Endpoints.Should().Equal("m1", Source);
        impact.TagAfter.Endpoints.Should().Equal(Source);
        impact.DigestAfter.SameAs(impact.DigestBefore).Should().BeTrue();
    }

    [Fact]
    public void A_removed_entry_sends_pulls_back_to_the_source()
    {
        var impact = Single(Conf(Entry(Mirror("m1"))), Conf());

        impact.Changes.Should().Equal(new ScopeChange("entry-removed", "1 mirror(s)"));
        impact.TagAfter.Endpoints.Should().Equal(Source);
    }

    [Fact]
    public void Unchanged_entries_are_left_out()
    {
        PullImpact.Compare(Conf(Entry(Mirror("m1"))), Conf(Entry(Mirror("m1")))).Should().BeEmpty();
    }

    [Fact]
    public void Policy_verdict_changes_per_scope()
    {
        var before = """{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"quay.io":[{"type":"insecureAcceptAnything"}]}}}""";
        var after = """{"default":[{"type":"reject"}],"transports":{"docker":{"quay.io":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}],"bad.example":[{"type":"reject"}]}}}""";

        PolicyImpact.Compare(Encoding.UTF8.GetBytes(before), Encoding.UTF8.GetBytes(after)).Should().Equal(
            new PolicyChange("default", "accepted", "rejected"),
            new PolicyChange("docker bad.example", PolicyImpact.Unset, "rejected"),
            new PolicyChange("docker quay.io", "accepted", "accepted only if signed (signedBy)"));
    }

    [Fact]
    public void Policy_files_that_did_not_exist_or_do_not_parse_compare_as_empty()
    {
        var policy = Encoding.UTF8.GetBytes("""{"default":[{"type":"insecureAcceptAnything"}]}""");

        PolicyImpact.Compare(null, policy).Should().Equal(new PolicyChange("default", PolicyImpact.Unset, "accepted"));
        PolicyImpact.Compare("{not json"u8.ToArray(), policy).Should().Equal(new PolicyChange("default", PolicyImpact.Unset, "accepted"));
        PolicyImpact.Verdict(new System.Text.Json.Nodes.JsonArray()).Should().StartWith("invalid");
    }

    private static ScopeImpact Single(RegistriesConf before, RegistriesConf after)
    {
        var impacts = PullImpact.Compare(before, after);
        impacts.Should().ContainSingle();
        impacts[0].Scope.Should().Be(Source);
        return impacts[0];
    }

    private static RegistriesConf Conf(params RegistryEntry[] entries)
    {
        var conf = new RegistriesConf();
        conf.Registries.AddRange(entries);
        return conf;
    }

    private static RegistryEntry Entry(params MirrorEndpoint[] mirrors) => Entry(blocked: false, mirrors);

    private static RegistryEntry Entry(bool blocked, params MirrorEndpoint[] mirrors) =>
        new() { Prefix = "", Location = Source, Blocked = blocked, Mirrors = [.. mirrors] };

    private static MirrorEndpoint Mirror(string location, string pullFromMirror = "") => new(location, false, pullFromMirror);
}
