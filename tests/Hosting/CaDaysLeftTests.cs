using FluentAssertions;
using NodeAgent.Rendering;
using NodeAgent.Sync;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// One CA, one number of days left: the render's warning, <c>node-agent status</c>, and the
/// alert behind the daemon's log line and the Node's Event all round the same way (whole days,
/// down). Before, the warning rounded to the nearest day and said one more than the rest.
/// </summary>
public sealed class CaDaysLeftTests : IDisposable
{
    private readonly TempRoot _work = new("ca-days-left");

    public void Dispose() => _work.Dispose();

    [Theory]
    [InlineData(0.0, 5)]
    [InlineData(12.0, 5)]
    [InlineData(23.9, 5)]
    public void Whole_days_left_are_rounded_down(double hours, int days)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        ExpiryDays.Left(now.AddDays(5).AddHours(hours), now).Should().Be(days);
        ExpiryDays.Left(now.AddHours(-1), now).Should().BeNegative("an expired certificate has no days left");
    }

    [Fact]
    public void The_warning_the_status_and_the_alert_give_the_same_days_for_the_same_ca()
    {
        // 5 days and 18 hours: the nearest day would be 6.
        var now = DateTimeOffset.UtcNow;
        var ca = ThrowawayCa.Create("five days CA", now.AddDays(-1), now.AddDays(5).AddHours(18));
        var manifests = _work.Write("objects/objects.yaml", Manifests.ImageWithTrustedCa("cas") + "\n---\n" + Manifests.CaConfigMap("cas", ("mirror.example", ca.Pem)));
        var root = _work.File("root");

        var once = NodeAgentProcess.Run(["--once", "--manifests", Path.GetDirectoryName(manifests)!, "--root", root, "--reload-command", ""]);
        var status = NodeAgentProcess.Run(["status", "--root", root]);
        var alert = new CaExpiryAlerts().Due(new Dictionary<string, DateTimeOffset> { ["mirror.example"] = ca.NotAfter }, DateTimeOffset.UtcNow);

        once.ExitCode.Should().Be(0, once.ToString());
        once.StderrLines.Should().ContainSingle(l => l.StartsWith("warning: ", StringComparison.Ordinal)).Which.Should().EndWith("(in 5 days)");
        status.Stdout.Split('\n').Should().Contain(l => l.StartsWith("  mirror.example ", StringComparison.Ordinal) && l.EndsWith("  5 days left", StringComparison.Ordinal), status.ToString());
        alert.Should().ContainSingle().Which.DaysLeft.Should().Be(5, "the daemon's log line and the Node's Event say alert.DaysLeft");
    }
}
