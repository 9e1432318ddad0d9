using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// <c>explain --probe</c> against a real TLS registry on 127.0.0.1 (<see cref="TlsMirrorFixture"/>:
/// distribution v2 with a throw-away CA, holding <c>team/hello:v1</c>): verified with the CA in
/// certs.d, an unknown authority without it or when an empty <c>etc/containers/certs.d</c>
/// directory shadows it, unverified but connected for an insecure endpoint. And the policy
/// verdict for a <c>*.</c> wildcard scope, checked against what skopeo 1.9 does with the same files.
/// </summary>
public sealed class ExplainProbeTests(TlsMirrorFixture fixture, ITestOutputHelper output) : IClassFixture<TlsMirrorFixture>, IDisposable
{
    private readonly TempRoot _root = new("explain-probe");

    public void Dispose() => _root.Dispose();

    private string HostPort => fixture.Registry.HostPort;

    private string Image => $"{HostPort}/{TlsMirrorFixture.Repository}:{TlsMirrorFixture.Tag}";

    private JsonNode Probe(string image)
    {
        var result = NodeAgentProcess.Run(["explain", image, "--root", _root.Path, "--probe", "--output", "json"]);
        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(0, "a failed probe is part of the explanation, not an error");
        return JsonNode.Parse(result.Stdout)!["candidates"]![0]!["sources"]![0]!["probe"]!;
    }

    [SkippableFact]
    public void With_the_CA_in_docker_certs_d_the_certificate_is_verified_by_that_file()
    {
        Require();
        _root.Write($"etc/docker/certs.d/{HostPort}/ca.crt", fixture.Registry.Pki.CaPem);

        var probe = Probe(Image);

        probe["ok"]!.GetValue<bool>().Should().BeTrue(probe.ToJsonString());
        probe["verified"]!.GetValue<bool>().Should().BeTrue();
        probe["address"]!.GetValue<string>().Should().Be(HostPort);
        probe["verifiedBy"]!.GetValue<string>().Should().Be($"etc/docker/certs.d/{HostPort}/ca.crt");
        probe["subject"]!.GetValue<string>().Should().Be("CN=127.0.0.1");
        probe["tlsVersion"]!.GetValue<string>().Should().StartWith("TLS 1.");
        DateTimeOffset.Parse(probe["notAfter"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeCloseTo(new DateTimeOffset(fixture.Registry.Pki.Server.NotAfter.ToUniversalTime()), TimeSpan.FromSeconds(1));

        var text = NodeAgentProcess.Run(["explain", Image, "--root", _root.Path, "--probe"]);
        text.Stdout.Should().Contain($"       probe {HostPort}: ok, TLS 1.").And.Contain($"verified by etc/docker/certs.d/{HostPort}/ca.crt");
    }

    [SkippableFact]
    public void Without_the_CA_the_probe_fails_with_an_unknown_authority()
    {
        Require();
        var probe = Probe(Image);
        probe["ok"]!.GetValue<bool>().Should().BeFalse();
        probe["error"]!.GetValue<string>().Should().Be("x509: certificate signed by unknown authority");
    }

    [SkippableFact]
    public void An_empty_containers_certs_d_directory_shadows_the_CA_and_the_probe_fails()
    {
        Require();
        _root.Write($"etc/docker/certs.d/{HostPort}/ca.crt", fixture.Registry.Pki.CaPem);
        Directory.CreateDirectory(_root.File($"etc/containers/certs.d/{HostPort}"));

        var probe = Probe(Image);
        probe["ok"]!.GetValue<bool>().Should().BeFalse();
        probe["error"]!.GetValue<string>().Should().Be("x509: certificate signed by unknown authority");

        var text = NodeAgentProcess.Run(["explain", Image, "--root", _root.Path]);
        text.Stdout.Should().Contain($"warning: etc/containers/certs.d/{HostPort} shadows etc/docker/certs.d/{HostPort}: its CA files (ca.crt) are NOT used");
    }

    [SkippableFact]
    public void An_insecure_endpoint_connects_without_verification()
    {
        Require();
        _root.Write("etc/containers/registries.conf", $"[[registry]]\nlocation = \"{HostPort}\"\ninsecure = true\n");

        var probe = Probe(Image);
        probe["ok"]!.GetValue<bool>().Should().BeTrue(probe.ToJsonString());
        probe["verified"]!.GetValue<bool>().Should().BeFalse();
        probe["verifiedBy"].Should().BeNull();
        probe["subject"]!.GetValue<string>().Should().Be("CN=127.0.0.1");
    }

    [SkippableFact]
    public void A_closed_port_is_refused_and_an_unpaired_client_certificate_is_not_even_tried()
    {
        Require();
        Probe("127.0.0.1:1/team/app:v1")["error"]!.GetValue<string>().Should().Be("connection refused");

        _root.Write($"etc/docker/certs.d/{HostPort}/client.cert", "unpaired");
        var probe = Probe(Image);
        probe["ok"]!.GetValue<bool>().Should().BeFalse();
        probe["error"]!.GetValue<string>().Should().Be(
            $"not connected: etc/docker/certs.d/{HostPort}: missing key client.key for client certificate client.cert. Note that CA certificates should use the extension .crt");
    }

    [SkippableTheory]
    [InlineData("""{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"*.e2e.invalid":[{"type":"reject"}]}}}""", "rejected")]
    [InlineData("""{"default":[{"type":"reject"}],"transports":{"docker":{"*.e2e.invalid":[{"type":"insecureAcceptAnything"}]}}}""", "accepted")]
    public void A_wildcard_policy_scope_decides_as_in_skopeo(string policy, string verdict)
    {
        Require();
        _root.Write("etc/containers/registries.conf", $"""
            [[registry]]
            location = "registry.e2e.invalid/team"
            [[registry.mirror]]
            location = "{HostPort}/team"
            """);
        _root.Write($"etc/docker/certs.d/{HostPort}/ca.crt", fixture.Registry.Pki.CaPem);
        _root.Write("etc/containers/policy.json", policy);

        var explain = NodeAgentProcess.Run(["explain", TlsMirrorFixture.ByTag, "--root", _root.Path, "--output", "json"]);
        var decision = JsonNode.Parse(explain.Stdout)!["candidates"]![0]!["policy"]!;
        decision["matchedScope"]!.GetValue<string>().Should().Be("*.e2e.invalid", "the wildcard of the source's parent domain, after the host");
        decision["verdict"]!.GetValue<string>().Should().Be(verdict);

        using var skopeo = new NodeRootSkopeo(_root.Path);
        var copy = skopeo.Run("copy", "docker://" + TlsMirrorFixture.ByTag, $"oci:{skopeo.Output("copy")}:copied");
        output.WriteLine(SkopeoResult.From(copy).Errors);
        if (verdict == "accepted")
        {
            copy.ExitCode.Should().Be(0, copy.ToString());
        }
        else
        {
            copy.ExitCode.Should().Be(1, copy.ToString());
            SkopeoResult.From(copy).Errors.Should().Contain("rejected by policy", "skopeo applies the same wildcard scope to the logical reference");
        }
    }

    private void Require() =>
        Requires.Available(fixture.NotRunReason is null ? null : $"{fixture.NotRunReason}, so --probe cannot be checked against a real TLS registry");
}
