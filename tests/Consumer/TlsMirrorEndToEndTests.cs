using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// One real registry and one pushed image for the whole class: distribution v2 serving HTTPS on
/// 127.0.0.1 with a certificate from a throw-away CA, holding <c>team/hello:v1</c>, a hand-made
/// OCI image whose digest is known. Also the manifests node-agent renders from: Image/cluster
/// naming a ConfigMap that maps <c>127.0.0.1..PORT</c> to that CA, and an ImageDigestMirrorSet
/// and ImageTagMirrorSet mirroring <see cref="Source"/> (a <c>.invalid</c> name, RFC 2606) to
/// the registry.
/// </summary>
public sealed class TlsMirrorFixture : IDisposable
{
    public const string Source = "registry.e2e.invalid/team/hello";
    public const string Repository = "team/hello";
    public const string Tag = "v1";
    public const string ConfigMapName = "e2e-registry-ca";

    private readonly TempRoot? _work;

    public TlsMirrorFixture()
    {
        NotRunReason = SkopeoSandbox.SkopeoPath is null ? "skopeo is not installed: apt-get install skopeo (make deps does it as root)"
            : TlsRegistry.Program is null ? "docker-registry (distribution v2) is not installed: apt-get install docker-registry (make deps does it as root)"
            : NodeRootSkopeo.Unavailable;
        if (NotRunReason is not null)
        {
            return;
        }
        _work = new TempRoot("tls-mirror-e2e");
        try
        {
            Registry = TlsRegistry.Start();
            Image = OciLayout.Write(_work.File("image"), Tag, "hello.txt", "hello from the node-agent TLS mirror test\n");
            PushedDigest = Registry.Push(Image, Repository, Tag);
            if (PushedDigest != Image.ManifestDigest)
            {
                throw new InvalidOperationException($"skopeo pushed {PushedDigest}, not the manifest as written ({Image.ManifestDigest})");
            }
            ManifestsDir = _work.File("manifests");
            WriteManifests(ManifestsDir);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Null when the test can run; else what is missing.</summary>
    public string? NotRunReason { get; }

    public TlsRegistry Registry { get; } = null!;

    public OciLayout Image { get; } = null!;

    /// <summary>The manifest digest skopeo reported for the push.</summary>
    public string PushedDigest { get; } = "";

    /// <summary>Image/cluster, the CA ConfigMap, the IDMS and the ITMS.</summary>
    public string ManifestsDir { get; } = "";

    /// <summary>The mirror every pull must go to: <c>127.0.0.1:PORT/team/hello</c>.</summary>
    public string Mirror => $"{Registry.HostPort}/{Repository}";

    public string ByDigest => $"{Source}@{PushedDigest}";

    public static string ByTag => $"{Source}:{Tag}";

    public void Dispose()
    {
        Registry?.Dispose();
        _work?.Dispose();
    }

    private void WriteManifests(string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Join(dir, "image.yaml"), Manifests.ImageWithTrustedCa(ConfigMapName));
        File.WriteAllText(Path.Join(dir, "ca-configmap.yaml"), Manifests.CaConfigMap(ConfigMapName, ($"127.0.0.1..{Registry.Port}", Registry.Pki.CaPem)));
        File.WriteAllText(Path.Join(dir, "idms.yaml"), Manifests.Idms("e2e-digest", $"""
            - source: {Source}
              mirrors:
                - {Mirror}
            """));
        File.WriteAllText(Path.Join(dir, "itms.yaml"), Manifests.Itms("e2e-tag", $"""
            - source: {Source}
              mirrors:
                - {Mirror}
            """));
    }
}

/// <summary>
/// End to end through the real consumer: node-agent renders a node root from Image/cluster
/// (<c>additionalTrustedCA</c>), its CA ConfigMap, an ImageDigestMirrorSet and an
/// ImageTagMirrorSet; skopeo, i.e. containers/image as CRI-O uses it, then pulls an image by an
/// unresolvable source name and must reach the TLS mirror on 127.0.0.1, verifying its
/// certificate with nothing but the <c>/etc/docker/certs.d/127.0.0.1:PORT/ca.crt</c> node-agent
/// wrote. No <c>--tls-verify=false</c>, <c>--cert-dir</c> or <c>insecure</c> anywhere on the
/// pull side; the files are read at their real default paths (<see cref="NodeRootSkopeo"/>).
/// </summary>
/// <remarks>
/// The controls show that the CA file is what makes the difference: without that certs.d entry,
/// and with an empty <c>/etc/containers/certs.d/127.0.0.1:PORT</c> shadowing it
/// (containers/image reads only the first existing certs.d directory), the same pulls fail with
/// <c>x509: certificate signed by unknown authority</c>.
/// When skopeo or docker-registry is missing: the tests are skipped with the reason; with
/// <c>CI=true</c> they fail (<see cref="Requires"/>, as <see cref="SkopeoConsumerTests"/>).
/// </remarks>
public sealed class TlsMirrorEndToEndTests(TlsMirrorFixture fixture, ITestOutputHelper output) : IClassFixture<TlsMirrorFixture>
{
    private const string UnknownAuthority = "x509: certificate signed by unknown authority";

    [SkippableFact]
    public void Pulls_by_digest_and_by_tag_reach_the_TLS_mirror_trusting_only_the_CA_node_agent_wrote()
    {
        Require();
        using var root = Render();
        using var skopeo = new NodeRootSkopeo(root.Path);

        foreach (var (reference, mirrored) in Pulls())
        {
            var inspect = skopeo.Run("inspect", "--no-tags", "docker://" + reference);
            Log("inspect " + reference, inspect);
            inspect.ExitCode.Should().Be(0, $"{reference} must be pulled through {mirrored} with the CA from certs.d\n{inspect}");
            var json = JsonNode.Parse(inspect.Stdout)!;
            json["Digest"]!.GetValue<string>().Should().Be(fixture.PushedDigest);
            json["Name"]!.GetValue<string>().Should().Be(TlsMirrorFixture.Source, "skopeo reports the reference as asked, not the mirror");
            AssertReachedMirrorWithRenderedTrust(inspect, mirrored);

            var target = skopeo.Output($"copy-{Guid.NewGuid():N}");
            var copy = skopeo.Run("copy", "docker://" + reference, $"oci:{target}:copied");
            Log("copy " + reference, copy);
            copy.ExitCode.Should().Be(0, $"{reference} must be copied through {mirrored}\n{copy}");
            AssertReachedMirrorWithRenderedTrust(copy, mirrored);
            OciLayout.ReadManifestDigest(target).Should().Be(fixture.PushedDigest, "the copied manifest is the pushed one, byte for byte");
        }
    }

    [SkippableFact]
    public void Without_the_certs_d_entry_the_same_pulls_fail_with_an_unknown_authority()
    {
        Require();
        using var root = Render();
        Directory.Delete(root.File($"etc/docker/certs.d/{fixture.Registry.HostPort}"), recursive: true);
        using var skopeo = new NodeRootSkopeo(root.Path);

        foreach (var (reference, mirrored) in Pulls())
        {
            var inspect = skopeo.Run("inspect", "--no-tags", "docker://" + reference);
            Log("inspect " + reference, inspect);
            AssertMirrorRejectedTheCertificate(inspect, mirrored);
            inspect.Stderr.Should().Contain($"Looking for TLS certificates and private keys in /etc/docker/certs.d/{fixture.Registry.HostPort}",
                "with no entry anywhere, containers/image ends at the last candidate and loads nothing");

            var copy = skopeo.Run("copy", "docker://" + reference, $"oci:{skopeo.Output($"copy-{Guid.NewGuid():N}")}:copied");
            Log("copy " + reference, copy);
            AssertMirrorRejectedTheCertificate(copy, mirrored);
        }
    }

    [SkippableFact]
    public void An_empty_containers_certs_d_directory_shadows_the_CA_in_docker_certs_d()
    {
        Require();
        using var root = Render();
        var shadow = root.File($"etc/containers/certs.d/{fixture.Registry.HostPort}");
        Directory.CreateDirectory(shadow);
        var again = NodeAgentProcess.Run(["--once", "--manifests", fixture.ManifestsDir, "--root", root.Path, "--reload-command", ""]);
        again.ExitCode.Should().Be(0, again.ToString());
        again.Stderr.Should().Contain($"CA for {fixture.Registry.HostPort} is shadowed by /etc/containers/certs.d/{fixture.Registry.HostPort}",
            "node-agent tells the admin why the pull below fails");
        using var skopeo = new NodeRootSkopeo(root.Path);

        foreach (var (reference, mirrored) in Pulls())
        {
            var shadowed = skopeo.Run("inspect", "--no-tags", "docker://" + reference);
            Log("inspect with the shadow " + reference, shadowed);
            AssertMirrorRejectedTheCertificate(shadowed, mirrored);
            shadowed.Stderr.Should().Contain($"Looking for TLS certificates and private keys in /etc/containers/certs.d/{fixture.Registry.HostPort}",
                "the first existing directory wins, even when it is empty");
            shadowed.Stderr.Should().NotContain($"Looking for TLS certificates and private keys in /etc/docker/certs.d/{fixture.Registry.HostPort}",
                "containers/image reads one certs.d directory per host, with no merging");
        }

        // The shadow alone made the difference: without it the CA node-agent wrote is used again.
        Directory.Delete(shadow);
        var unshadowed = skopeo.Run("inspect", "--no-tags", "docker://" + fixture.ByDigest);
        Log("inspect without the shadow " + fixture.ByDigest, unshadowed);
        unshadowed.ExitCode.Should().Be(0, unshadowed.ToString());
        AssertReachedMirrorWithRenderedTrust(unshadowed, $"{fixture.Mirror}@{fixture.PushedDigest}");
    }

    // (source reference, the mirror reference containers/image must try for it)
    private IEnumerable<(string Reference, string Mirrored)> Pulls() =>
    [
        (fixture.ByDigest, $"{fixture.Mirror}@{fixture.PushedDigest}"),
        (TlsMirrorFixture.ByTag, $"{fixture.Mirror}:{TlsMirrorFixture.Tag}"),
    ];

    /// <summary>
    /// node-agent --once on the fixture's manifests into a fresh root; checks the files this test
    /// relies on: the mirrors in registries.conf (and nothing that disables TLS verification) and
    /// the CA at <c>etc/docker/certs.d/127.0.0.1:PORT/ca.crt</c>.
    /// </summary>
    private TempRoot Render()
    {
        var root = new TempRoot("tls-mirror-root");
        try
        {
            var run = NodeAgentProcess.Run(["--once", "--manifests", fixture.ManifestsDir, "--root", root.Path, "--reload-command", ""]);
            output.WriteLine($"node-agent --once: exit {run.ExitCode}\n{run.Stderr}");
            run.ExitCode.Should().Be(0, run.ToString());

            var registriesConf = root.Read("etc/containers/registries.conf");
            registriesConf.Should().NotBeNull("node-agent renders registries.conf")
                .And.Contain($"location = \"{TlsMirrorFixture.Source}\"")
                .And.Contain($"location = \"{fixture.Mirror}\"")
                .And.NotContain("insecure", "the mirror must be trusted through its CA, not by skipping verification");

            var caFile = root.File($"etc/docker/certs.d/{fixture.Registry.HostPort}/ca.crt");
            File.Exists(caFile).Should().BeTrue(
                $"node-agent writes the ConfigMap key 127.0.0.1..{fixture.Registry.Port} to etc/docker/certs.d/{fixture.Registry.HostPort}/ca.crt\n{run}");
            var written = new X509Certificate2Collection();
            written.ImportFromPem(File.ReadAllText(caFile));
            written.Select(c => c.Thumbprint).Should().Equal([fixture.Registry.Pki.Ca.Thumbprint], "ca.crt holds exactly the CA of the ConfigMap");
            return root;
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    private void AssertReachedMirrorWithRenderedTrust(ProcessResult result, string mirrored)
    {
        var hostPort = fixture.Registry.HostPort;
        result.Stderr.Should().Contain("Loading registries configuration \\\"/etc/containers/registries.conf\\\"", "the rendered file is read at its default path")
            .And.Contain($"Trying to access \\\"{mirrored}\\\"", "the mirror is tried")
            .And.Contain($"Looking for TLS certificates and private keys in /etc/docker/certs.d/{hostPort}", "no other certs.d directory exists for the mirror")
            .And.Contain($" crt: /etc/docker/certs.d/{hostPort}/ca.crt", "the CA comes from the file node-agent wrote")
            .And.Contain($"Ping https://{hostPort}/v2/ status 200", "TLS to the mirror succeeded")
            .And.NotContain($"Trying to access \\\"{TlsMirrorFixture.Source}", "the source is only tried when every mirror fails")
            .And.NotContain(UnknownAuthority);
        SkopeoResult.From(result).LoadedRegistriesFiles.Should().Equal(["/etc/containers/registries.conf"], "no machine or user configuration is read");
    }

    private void AssertMirrorRejectedTheCertificate(ProcessResult result, string mirrored)
    {
        result.ExitCode.Should().Be(1, result.ToString());
        var errors = SkopeoResult.From(result).Errors;
        errors.Should().Contain($"[{mirrored}: pinging container registry {fixture.Registry.HostPort}: Get \"https://{fixture.Registry.HostPort}/v2/\": {UnknownAuthority}]",
            $"the mirror is tried over verified TLS and its certificate is not trusted\n{result}");
        result.Stderr.Should().NotContain(" crt: ", "no CA file is loaded for the mirror")
            .And.NotContain($"Ping https://{fixture.Registry.HostPort}/v2/ status", "no request reaches the registry");
    }

    private void Log(string what, ProcessResult result) =>
        output.WriteLine($"skopeo {what}: exit {result.ExitCode}{(result.ExitCode == 0 ? "" : "\n" + SkopeoResult.From(result).Errors)}");

    private void Require()
    {
        Requires.Available(fixture.NotRunReason is null ? null : $"{fixture.NotRunReason}, so the CA trust cannot be checked against a real registry");
        output.WriteLine($"skopeo: {SkopeoSandbox.SkopeoPath}; docker-registry: {TlsRegistry.Program} on {fixture.Registry.HostPort}; pushed {fixture.PushedDigest}");
    }
}
