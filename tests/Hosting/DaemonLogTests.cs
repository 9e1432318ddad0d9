using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>What the daemon's log says about warnings in the input.</summary>
public sealed partial class DaemonTests
{
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
}
