using FluentAssertions;
using NodeAgent.Sync;
using Xunit;

namespace NodeAgent.Tests.Sync;

/// <summary>CA expiry warnings: once at 30 days, once at 7, once expired; per certificate; no polling.</summary>
public sealed class CaExpiryAlertsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_threshold_is_announced_once()
    {
        var alerts = new CaExpiryAlerts();
        var expiry = new Dictionary<string, DateTimeOffset> { ["mirror.example:5000"] = Now.AddDays(20) };

        alerts.Due(expiry, Now).Should().Equal(new CaExpiryAlert("mirror.example:5000", Now.AddDays(20), 30, 20));
        alerts.Due(expiry, Now.AddDays(1)).Should().BeEmpty("the 30-day warning was given");
        alerts.Due(expiry, Now.AddDays(14)).Should().Equal(new CaExpiryAlert("mirror.example:5000", Now.AddDays(20), 7, 6));
        var expired = alerts.Due(expiry, Now.AddDays(21));
        expired.Should().ContainSingle().Which.Expired.Should().BeTrue();
        alerts.Due(expiry, Now.AddDays(22)).Should().BeEmpty();
    }

    [Fact]
    public void A_certificate_first_seen_inside_7_days_gets_only_the_most_severe_warning()
    {
        var alerts = new CaExpiryAlerts();
        var expiry = new Dictionary<string, DateTimeOffset> { ["a.example"] = Now.AddDays(3), ["b.example"] = Now.AddDays(90) };

        alerts.Due(expiry, Now).Should().Equal(new CaExpiryAlert("a.example", Now.AddDays(3), 7, 3));
        alerts.Due(expiry, Now.AddDays(1)).Should().BeEmpty("no 30-day warning after the 7-day one");
    }

    [Fact]
    public void A_replaced_certificate_starts_over()
    {
        var alerts = new CaExpiryAlerts();
        alerts.Due(new Dictionary<string, DateTimeOffset> { ["a.example"] = Now.AddDays(5) }, Now).Should().ContainSingle();

        alerts.Due(new Dictionary<string, DateTimeOffset> { ["a.example"] = Now.AddDays(25) }, Now).Should()
            .Equal(new CaExpiryAlert("a.example", Now.AddDays(25), 30, 25));
    }

    [Fact]
    public void The_next_crossing_is_the_nearest_threshold_ahead()
    {
        var expiry = new Dictionary<string, DateTimeOffset> { ["a.example"] = Now.AddDays(100), ["b.example"] = Now.AddDays(10) };

        CaExpiryAlerts.NextCrossing(expiry, Now).Should().Be(Now.AddDays(3), "b.example reaches 7 days left in 3 days");
        CaExpiryAlerts.NextCrossing(new Dictionary<string, DateTimeOffset> { ["a.example"] = Now.AddDays(-1) }, Now).Should().BeNull();
        CaExpiryAlerts.NextCrossing(new Dictionary<string, DateTimeOffset>(), Now).Should().BeNull();
    }
}
