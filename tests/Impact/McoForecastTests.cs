using FluentAssertions;
using NodeAgent.Impact;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Impact;

/// <summary>
/// MCO's drain rules (node-apply.md, "What MCO would have done"), one row per rule with the
/// reason it exists. Entries are built directly so each row changes exactly one thing.
/// </summary>
public sealed class McoForecastTests
{
    private const string Source = "quay.io/team/app";

    public static TheoryData<string, RegistriesConf, RegistriesConf, McoAction> Rows() => new()
    {
        { "adding a digest-only mirror is additive", Conf(Entry(Mirror("m1", "digest-only"))), Conf(Entry(Mirror("m1", "digest-only"), Mirror("m2", "digest-only"))), McoAction.Reload },
        { "an added mirror under mirror-by-digest-only (ICSP) is additive", Conf(Entry(digestOnly: true, Mirror("m1"))), Conf(Entry(digestOnly: true, Mirror("m1"), Mirror("m2"))), McoAction.Reload },
        { "an added mirror that also serves tags drains", Conf(Entry(Mirror("m1", "digest-only"))), Conf(Entry(Mirror("m1", "digest-only"), Mirror("m2"))), McoAction.DrainAndReload },
        { "a removed mirror drains", Conf(Entry(Mirror("m1", "digest-only"), Mirror("m2", "digest-only"))), Conf(Entry(Mirror("m1", "digest-only"))), McoAction.DrainAndReload },
        { "reordering mirrors only checks presence, not order", Conf(Entry(Mirror("m1"), Mirror("m2"))), Conf(Entry(Mirror("m2"), Mirror("m1"))), McoAction.Reload },
        { "pull-from-mirror narrowed to digest-only is safe", Conf(Entry(Mirror("m1"))), Conf(Entry(Mirror("m1", "digest-only"))), McoAction.Reload },
        { "pull-from-mirror widened from digest-only drains", Conf(Entry(Mirror("m1", "digest-only"))), Conf(Entry(Mirror("m1", "all"))), McoAction.DrainAndReload },
        { "insecure flipped drains", Conf(Plain()), Conf(Plain(insecure: true)), McoAction.DrainAndReload },
        { "blocked flipped drains", Conf(Plain(blocked: true)), Conf(Plain()), McoAction.DrainAndReload },
        { "a changed location drains", Conf(new RegistryEntry { Prefix = Source, Location = Source }), Conf(new RegistryEntry { Prefix = Source, Location = "other.example/app" }), McoAction.DrainAndReload },
        { "a removed scope drains", Conf(Entry(Mirror("m1", "digest-only"))), Conf(), McoAction.DrainAndReload },
        { "a new scope with only digest-only mirrors (IDMS) is additive", Conf(), Conf(Entry(Mirror("m1", "digest-only"))), McoAction.Reload },
        { "a new scope is checked mirror by mirror: mirror-by-digest-only alone does not make it additive", Conf(), Conf(Entry(digestOnly: true, Mirror("m1"))), McoAction.DrainAndReload },
        { "a new scope without mirrors but mirror-by-digest-only is additive", Conf(), Conf(Entry(digestOnly: true)), McoAction.Reload },
        { "a new scope with tag mirrors (ITMS) drains", Conf(), Conf(Entry(Mirror("m1", "tag-only"))), McoAction.DrainAndReload },
        { "a new scope without mirrors (an insecure registry) drains", Conf(), Conf(Plain(insecure: true)), McoAction.DrainAndReload },
        { "MCO does not look at mirror-by-digest-only on its own", Conf(Entry(Mirror("m1"))), Conf(Entry(digestOnly: true, Mirror("m1"))), McoAction.Reload },
        { "appending a search registry is safe", Conf(search: ["a.example"]), Conf(search: ["a.example", "b.example"]), McoAction.Reload },
        { "reordering search registries drains", Conf(search: ["a.example", "b.example"]), Conf(search: ["b.example", "a.example"]), McoAction.DrainAndReload },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Registries_conf_changes_drain_only_when_MCO_finds_them_unsafe(string reason, RegistriesConf before, RegistriesConf after, McoAction expected)
    {
        var verdict = McoForecast.Decide(searchDropInChanged: false, registriesConfChanged: true, policyChanged: false, before, after);

        verdict.Action.Should().Be(expected, reason);
        verdict.Reason.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void The_search_drop_in_has_no_policy_and_reboots_whatever_else_changed()
    {
        McoForecast.Decide(searchDropInChanged: true, registriesConfChanged: true, policyChanged: true, Conf(), Conf()).Action
            .Should().Be(McoAction.DrainAndReboot);
    }

    [Fact]
    public void Policy_json_alone_reloads_and_nothing_changed_does_nothing()
    {
        McoForecast.Decide(false, false, policyChanged: true, null, null).Action.Should().Be(McoAction.Reload);
        McoForecast.Decide(false, false, false, null, null).Action.Should().Be(McoAction.None);
    }

    [Fact]
    public void A_registries_conf_that_appears_cannot_be_compared_and_drains()
    {
        McoForecast.Decide(false, registriesConfChanged: true, false, before: null, Conf()).Action.Should().Be(McoAction.DrainAndReload);
    }

    [Fact]
    public void The_reason_names_the_scope_and_the_mirror_that_made_it_unsafe()
    {
        var verdict = McoForecast.Decide(false, true, false, Conf(Entry(Mirror("m1", "digest-only"), Mirror("m2", "digest-only"))), Conf(Entry(Mirror("m1", "digest-only"))));

        verdict.Reason.Should().Be($"registry {Source}: mirror m2 was removed");
    }

    private static RegistriesConf Conf(params RegistryEntry[] entries) => Conf(search: [], entries);

    private static RegistriesConf Conf(string[] search, params RegistryEntry[] entries)
    {
        var conf = new RegistriesConf();
        conf.UnqualifiedSearchRegistries.AddRange(search);
        conf.Registries.AddRange(entries);
        return conf;
    }

    private static RegistryEntry Entry(params MirrorEndpoint[] mirrors) => Entry(digestOnly: false, mirrors);

    private static RegistryEntry Entry(bool digestOnly, params MirrorEndpoint[] mirrors) =>
        new() { Prefix = "", Location = Source, MirrorByDigestOnly = digestOnly, Mirrors = [.. mirrors] };

    private static RegistryEntry Plain(bool insecure = false, bool blocked = false) =>
        new() { Prefix = "", Location = Source, Insecure = insecure, Blocked = blocked };

    private static MirrorEndpoint Mirror(string location, string pullFromMirror = "") => new(location, false, pullFromMirror);
}
