using FluentAssertions;
using NodeAgent.Sync;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Sync;

/// <summary>The drift back-off on a hand-driven clock: when a drifted file may be restored, and what is reported.</summary>
public sealed class DriftGuardTests
{
    private const string Conf = "etc/containers/registries.conf";
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(10);

    private readonly ManualClock _clock = new();
    private readonly DriftGuard _guard;

    public DriftGuardTests()
    {
        _guard = new DriftGuard(Base, _clock);
    }

    [Fact]
    public void The_first_drift_is_restored_at_once()
    {
        _guard.Hold(Conf).Should().BeNull();
        _guard.Restored(Conf).Should().BeNull("one restore is no fight");
        _guard.NextDue().Should().BeNull();
    }

    [Fact]
    public void A_file_changed_again_within_the_interval_waits_and_each_fight_doubles_the_interval()
    {
        Restore(); // t = 0
        _clock.Advance(TimeSpan.FromMilliseconds(50));
        _guard.Hold(Conf).Should().Be(TimeSpan.FromMilliseconds(9950), "never twice within the interval");
        _guard.IsHeld(Conf).Should().BeTrue();
        _guard.NextDue().Should().Be(TimeSpan.FromMilliseconds(9950));

        _clock.Advance(TimeSpan.FromMilliseconds(9950)); // t = 10 s
        _guard.Hold(Conf).Should().BeNull();
        _guard.Restored(Conf).Should().Be(TimeSpan.FromSeconds(20), "the other writer came back within the interval: back off");

        _clock.Advance(TimeSpan.FromMilliseconds(50));
        _guard.Hold(Conf).Should().Be(TimeSpan.FromMilliseconds(19950));
        _clock.Advance(TimeSpan.FromMilliseconds(19950)); // t = 30 s
        _guard.Restored(Conf).Should().Be(TimeSpan.FromSeconds(40));
    }

    [Fact]
    public void The_interval_stops_doubling_at_the_cap()
    {
        var restores = new List<TimeSpan>();
        var start = _clock.GetUtcNow();
        Restore();
        for (var i = 0; i < 12; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(50));
            var wait = _guard.Hold(Conf)!.Value;
            _clock.Advance(wait);
            _guard.Hold(Conf).Should().BeNull();
            _guard.Restored(Conf);
            restores.Add(_clock.GetUtcNow() - start);
        }
        var gaps = restores.Zip(restores.Skip(1), (a, b) => b - a).ToList();
        gaps.Should().OnlyContain(g => g <= DriftGuard.MaxInterval + TimeSpan.FromMilliseconds(50));
        gaps[^1].Should().Be(DriftGuard.MaxInterval);
        _guard.Cap.Should().Be(DriftGuard.MaxInterval);
    }

    [Fact]
    public void A_file_left_alone_for_a_whole_interval_starts_over_at_the_base()
    {
        Restore();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _clock.Advance(_guard.Hold(Conf)!.Value);
        _guard.Restored(Conf).Should().Be(TimeSpan.FromSeconds(20));

        _clock.Advance(TimeSpan.FromSeconds(25)); // calm for longer than the interval
        _guard.Hold(Conf).Should().BeNull("a new episode is restored at once");
        _guard.Restored(Conf).Should().BeNull();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _guard.Hold(Conf).Should().Be(TimeSpan.FromSeconds(9), "back to the base interval");
    }

    [Fact]
    public void The_same_foreign_content_is_news_once_until_node_agent_restores_the_file()
    {
        _guard.IsNews(Conf, "aaa").Should().BeTrue();
        _guard.IsNews(Conf, "aaa").Should().BeFalse("seen again while held back");
        _guard.IsNews(Conf, "bbb").Should().BeTrue("other content is another change");
        _guard.IsNews(Conf, null).Should().BeTrue("a deletion is news too");
        _guard.IsNews(Conf, null).Should().BeFalse();
        _guard.Restored(Conf);
        _guard.IsNews(Conf, "aaa").Should().BeTrue("after a restore, the same content again is a new change");
    }

    [Fact]
    public void A_drift_that_ended_without_node_agent_is_forgotten_after_the_pass()
    {
        Restore();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _guard.Hold(Conf).Should().NotBeNull();
        _guard.IsNews(Conf, "aaa").Should().BeTrue();

        _guard.PassFinished([]); // someone put node-agent's content back
        _guard.IsHeld(Conf).Should().BeFalse();
        _guard.NextDue().Should().BeNull();
        _guard.IsNews(Conf, "aaa").Should().BeTrue();
    }

    [Fact]
    public void A_restore_that_is_due_is_left_to_the_next_pass_and_never_a_timer_that_fires_at_once()
    {
        Restore();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _guard.Hold(Conf).Should().NotBeNull();
        _clock.Advance(TimeSpan.FromSeconds(10));
        _guard.IsHeld(Conf).Should().BeFalse();
        _guard.NextDue().Should().BeNull("a pass that could not restore (invalid input, say) must not spin");
        _guard.Hold(Conf).Should().BeNull();
    }

    [Fact]
    public void A_base_longer_than_five_minutes_is_its_own_cap()
    {
        var guard = new DriftGuard(TimeSpan.FromMinutes(20), _clock);
        guard.Cap.Should().Be(TimeSpan.FromMinutes(20));
        var act = () => new DriftGuard(TimeSpan.Zero, _clock);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    private void Restore()
    {
        _guard.Hold(Conf).Should().BeNull();
        _guard.Restored(Conf);
    }
}
