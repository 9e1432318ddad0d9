using FluentAssertions;
using NodeAgent.Cluster;
using Xunit;

namespace NodeAgent.Tests.Cluster;

public sealed class BackoffTests
{
    [Fact]
    public void Delays_double_from_half_a_second_stay_in_the_upper_half_and_never_pass_the_cap()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(10), new Random(7));
        var ceilings = new[] { 0.5, 1, 2, 4, 8, 10, 10, 10, 10, 10 };
        foreach (var ceiling in ceilings)
        {
            var delay = backoff.Next().TotalSeconds;
            delay.Should().BeInRange(ceiling / 2, ceiling, "attempt {0}", backoff.Failures);
        }
        backoff.Failures.Should().Be(ceilings.Length);
    }

    [Fact]
    public void Reset_starts_again_from_the_bottom()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 8; i++)
        {
            backoff.Next();
        }
        backoff.Reset();
        backoff.Failures.Should().Be(0);
        backoff.Next().Should().BeLessThanOrEqualTo(Backoff.Initial);
    }

    [Fact]
    public void Thousands_of_failures_do_not_overflow()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(3));
        for (var i = 0; i < 5000; i++)
        {
            backoff.Next().Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(3));
        }
    }

    [Fact]
    public void A_cap_below_the_first_step_caps_it()
    {
        new Backoff(TimeSpan.FromMilliseconds(100)).Next().Should().BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(100));
        FluentActions.Invoking(() => new Backoff(TimeSpan.Zero)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
