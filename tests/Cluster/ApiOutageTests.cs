using FluentAssertions;
using Microsoft.Extensions.Logging;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cluster;

/// <summary>
/// <see cref="ApiOutage"/> on a hand-driven clock: how many lines an outage of the API server
/// costs, whatever the number of watched kinds and retries.
/// </summary>
public sealed class ApiOutageTests
{
    private const string Server = "https://api.example:6443/";

    private readonly ManualClock _clock = new();
    private readonly ListLogger _log = new();

    private ApiOutage Outage() => new(Server, TimeSpan.FromSeconds(10), _log, _clock);

    [Fact]
    public void Retries_of_every_kind_are_one_warning_and_the_first_answer_one_line_with_duration_and_count()
    {
        var outage = Outage();
        var kinds = new[] { "Image/cluster", "ClusterVersion/version", "ImageDigestMirrorSet", "ImageTagMirrorSet", "ImageContentSourcePolicy", "ConfigMap openshift-config-managed/image-registry-ca" };

        for (var round = 0; round < 4; round++)
        {
            foreach (var kind in kinds)
            {
                outage.Failed(kind, "Connection refused (api.example:6443)");
            }
            _clock.Advance(TimeSpan.FromSeconds(1.3));
        }
        outage.Ongoing.Should().BeTrue();
        outage.Answered();
        outage.Answered();

        _log.Entries.Should().Equal(
            (68, LogLevel.Warning, $"requests to the API server {Server} are failing (Image/cluster: Connection refused (api.example:6443)); every watch retries with a backoff of at most 10 s, and one line follows when the server answers again"),
            (69, LogLevel.Information, $"the API server {Server} answers again, after 5.2 s and 24 failed attempt(s)"));
        outage.Ongoing.Should().BeFalse();
    }

    [Fact]
    public void An_outage_that_goes_on_is_logged_again_every_five_minutes_not_on_every_retry()
    {
        var outage = Outage();

        for (var second = 0; second <= 11 * 60; second += 10)
        {
            outage.Failed("Image/cluster", "503 Service Unavailable");
            _clock.Advance(TimeSpan.FromSeconds(10));
        }

        _log.Messages(68).Should().HaveCount(3, "the start, then after 5 and 10 minutes");
        _log.Messages(68)[1].Should().StartWith($"requests to the API server {Server} are failing still, for 300 s and 31 failed attempt(s) (Image/cluster: 503 Service Unavailable)");
    }

    [Fact]
    public void A_failure_after_the_server_answered_is_a_new_outage()
    {
        var outage = Outage();

        outage.Failed("Image/cluster", "first");
        outage.Answered();
        outage.Failed("Image/cluster", "second");

        _log.Entries.Select(e => e.EventId).Should().Equal(68, 69, 68);
        _log.Messages(69).Should().Equal($"the API server {Server} answers again, after 0.0 s and 1 failed attempt(s)");
    }

    [Fact]
    public void An_answer_without_an_outage_says_nothing()
    {
        Outage().Answered();

        _log.Entries.Should().BeEmpty();
    }
}
