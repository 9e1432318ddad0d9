using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>What the daemon's log says about an API server outage and about warnings in the input.</summary>
public sealed partial class DaemonTests
{
    [Theory]
    [InlineData("gone")]
    [InlineData("503")]
    public async Task A_five_second_outage_is_one_warning_when_it_begins_and_one_line_when_it_ends(string fault)
    {
        var image = Image("insecureRegistries: [\"good.example\"]");
        _cluster.Apply(image);
        var (daemon, _) = await StartAsync();
        await ConvergeAsync(daemon, image, "the first sync");
        await daemon.WaitForAsync(() => _cluster.Server.OpenWatches >= FakeCluster.Collections.Count - 1, "every watch open");
        var before = daemon.Log.Count;

        if (fault == "gone")
        {
            await _cluster.Server.GoAwayAsync();
        }
        else
        {
            _cluster.Server.FailAll(503);
            foreach (var (path, _, _) in FakeCluster.Collections)
            {
                _cluster.Collection(path).DropWatches();
            }
        }
        // The outage itself lasts five seconds; every watch retries several times in it (cap 2 s).
        await Task.Delay(TimeSpan.FromSeconds(5));
        if (fault == "gone")
        {
            await _cluster.Server.ComeBackAsync();
        }
        else
        {
            _cluster.Server.FailAll(null);
        }
        await daemon.WaitForLogAsync("node-agent[69] ", Converge);

        var during = daemon.Log.Skip(before).ToList();
        output.WriteLine(string.Join('\n', during));
        during.Where(l => l.StartsWith("warn: ", StringComparison.Ordinal)).Should().ContainSingle(daemon.LogText)
            .Which.Should().Contain($"requests to the API server {_cluster.Server.Url}").And.Contain("are failing (");
        var end = OutageEnded().Match(during.Single(l => l.Contains("node-agent[69] ", StringComparison.Ordinal)));
        end.Success.Should().BeTrue(daemon.LogText);
        double.Parse(end.Groups["seconds"].Value, CultureInfo.InvariantCulture).Should().BeInRange(4.5, 20);
        int.Parse(end.Groups["failures"].Value, CultureInfo.InvariantCulture).Should().BeGreaterThan(FakeCluster.Collections.Count - 1,
            "every watch failed at least once, and the line counts every failed attempt");
        during.Should().NotContain(l => l.Contains("retrying in", StringComparison.Ordinal), "each retry is debug detail");
    }

    [Fact]
    public async Task An_input_warning_is_logged_with_the_severity_once()
    {
        var idms = Manifests.Idms("lonely", "- source: registry.example/team\n  mirrors: []\n  mirrorSourcePolicy: NeverContactSource");
        _cluster.Apply(idms);
        var (daemon, _) = await StartAsync();

        await daemon.WaitForLogAsync("NeverContactSource for");

        var line = daemon.Log.Single(l => l.Contains("NeverContactSource for", StringComparison.Ordinal));
        line.Should().StartWith("warn: node-agent[77] ImageDigestMirrorSet/lonely: spec.imageDigestMirrors[0].mirrorSourcePolicy: NeverContactSource for");
        line.Should().NotContain("warning:");
    }

    [GeneratedRegex(@"^info: node-agent\[69\] the API server \S+ answers again, after (?<seconds>[0-9.]+) s and (?<failures>[0-9]+) failed attempt\(s\)$")]
    private static partial Regex OutageEnded();
}
