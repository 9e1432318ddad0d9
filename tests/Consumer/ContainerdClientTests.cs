using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Rendering;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// For the whole class: distribution v2 serving HTTPS on 127.0.0.1 with a certificate from a
/// throw-away CA, holding <c>quay/team/hello:v1</c>; a private containerd
/// (<see cref="ContainerdDaemon"/>); and the manifests node-agent renders from: Image/cluster
/// naming a ConfigMap that maps <c>127.0.0.1..PORT</c> to that CA, and an ImageDigestMirrorSet and
/// ImageTagMirrorSet mirroring the whole registry <see cref="Source"/> (a <c>.invalid</c> name,
/// RFC 2606) to <c>127.0.0.1:PORT/quay</c> with NeverContactSource, plus a repository-scoped
/// source containerd cannot express.
/// </summary>
public sealed class ContainerdMirrorFixture : IDisposable
{
    public const string Source = "registry.e2e.invalid";
    public const string Repository = "team/hello";
    public const string MirrorNamespace = "quay";
    public const string Tag = "v1";
    public const string ScopedSource = "scoped.e2e.invalid/team/hello";

    private readonly TempRoot? _work;

    public ContainerdMirrorFixture()
    {
        NotRunReason = ContainerdDaemon.Unavailable
            ?? (SkopeoSandbox.SkopeoPath is null ? "skopeo (which pushes the test image) is not installed: apt-get install skopeo (make deps does it as root)"
            : TlsRegistry.Program is null ? "docker-registry (distribution v2) is not installed: apt-get install docker-registry (make deps does it as root)"
            : NodeRootSkopeo.Unavailable);
        if (NotRunReason is not null)
        {
            return;
        }
        _work = new TempRoot("containerd-e2e");
        try
        {
            Registry = TlsRegistry.Start();
            var image = OciLayout.Write(_work.File("image"), Tag, "hello.txt", "hello from the node-agent containerd test\n");
            PushedDigest = Registry.Push(image, $"{MirrorNamespace}/{Repository}", Tag);
            Containerd = ContainerdDaemon.Start();
            ManifestsDir = WriteManifests(_work.File("manifests"), withCa: true);
            ManifestsWithoutCaDir = WriteManifests(_work.File("manifests-without-ca"), withCa: false);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Null when the tests can run; else what is missing.</summary>
    public string? NotRunReason { get; }

    public TlsRegistry Registry { get; } = null!;

    public ContainerdDaemon Containerd { get; } = null!;

    public string PushedDigest { get; } = "";

    public string ManifestsDir { get; } = "";

    /// <summary>The same objects without additionalTrustedCA: no CA file, no <c>ca</c> line.</summary>
    public string ManifestsWithoutCaDir { get; } = "";

    /// <summary><c>127.0.0.1:PORT/quay</c>: the mirror of the whole registry.</summary>
    public string Mirror => $"{Registry.HostPort}/{MirrorNamespace}";

    public string ByDigest => $"{Source}/{Repository}@{PushedDigest}";

    public static string ByTag => $"{Source}/{Repository}:{Tag}";

    public void Dispose()
    {
        Containerd?.Dispose();
        Registry?.Dispose();
        _work?.Dispose();
    }

    private string WriteManifests(string dir, bool withCa)
    {
        Directory.CreateDirectory(dir);
        if (withCa)
        {
            File.WriteAllText(Path.Join(dir, "image.yaml"), Manifests.ImageWithTrustedCa("e2e-registry-ca"));
            File.WriteAllText(Path.Join(dir, "ca-configmap.yaml"), Manifests.CaConfigMap("e2e-registry-ca", ($"127.0.0.1..{Registry.Port}", Registry.Pki.CaPem)));
        }
        File.WriteAllText(Path.Join(dir, "idms.yaml"), Manifests.Idms("e2e-digest", $"""
            - source: {Source}
              mirrors:
                - {Mirror}
              mirrorSourcePolicy: NeverContactSource
            - source: {ScopedSource}
              mirrors:
                - {Mirror}/{Repository}
            """));
        File.WriteAllText(Path.Join(dir, "itms.yaml"), Manifests.Itms("e2e-tag", $"""
            - source: {Source}
              mirrors:
                - {Mirror}
              mirrorSourcePolicy: NeverContactSource
            """));
        return dir;
    }
}

/// <summary>
/// containerd's own client reads what node-agent writes. <c>ctr content fetch --hosts-dir
/// /etc/containerd/certs.d</c> resolves and fetches on the client side; it runs in
/// <see cref="NodeRootSkopeo"/>'s private mount namespace, so the rendered root's
/// <c>etc/containerd/certs.d</c> and <c>etc/docker/certs.d</c> are read at their real paths (the
/// <c>ca</c> line names <c>/etc/docker/certs.d/127.0.0.1:PORT/ca.crt</c>), and name lookups go to
/// 127.0.0.1. The only way a pull can succeed is the TLS mirror on 127.0.0.1, trusted through the
/// rendered <c>ca</c>; controls show the <c>ca</c> line and the push-only server each make the
/// difference. Finally every golden hosts.toml is read by ctr, in a namespace without network, and
/// must be tried endpoint by endpoint exactly as the file says.
/// </summary>
/// <remarks>
/// When containerd, skopeo or docker-registry is missing, or root: the tests are skipped with the
/// reason; with <c>CI=true</c> they fail (<see cref="Requires"/>, as the other real-consumer tests).
/// </remarks>
public sealed partial class ContainerdClientTests(ContainerdMirrorFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerdMirrorFixture>
{
    private const string UnknownAuthority = "x509: certificate signed by unknown authority";
    private const string EmptyDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    [SkippableFact]
    public void Pulls_by_digest_and_by_tag_reach_the_TLS_mirror_trusting_only_the_CA_named_in_hosts_toml()
    {
        Require();
        using var root = Render(fixture.ManifestsDir, out var run);
        run.Stderr.Should().Contain($"containerd: the mirrors of \"{ContainerdMirrorFixture.ScopedSource}\" are not written",
            "a repository-scoped source is reported, not written");
        root.Read($"etc/containerd/certs.d/{ContainerdMirrorFixture.Source}/hosts.toml").Should().Be($"""
            # Written by node-agent from the cluster's image objects; changes made here are overwritten.
            # Pulls never reach the server (NeverContactSource or blocked); containerd always keeps a server, so it may push only.
            server = "https://{ContainerdMirrorFixture.Source}"
            capabilities = ["push"]

            [host."https://{fixture.Registry.HostPort}/v2/{ContainerdMirrorFixture.MirrorNamespace}"]
              capabilities = ["pull", "resolve"]
              override_path = true
              ca = "/etc/docker/certs.d/{fixture.Registry.HostPort}/ca.crt"

            """);
        using var client = new NodeRootSkopeo(root.Path);

        foreach (var reference in new[] { fixture.ByDigest, ContainerdMirrorFixture.ByTag })
        {
            var ns = Namespace();
            var fetch = Fetch(client, ns, reference);
            fetch.ExitCode.Should().Be(0, $"{reference} must be fetched through {fixture.Mirror} with the CA hosts.toml names\n{fetch}");
            fetch.Stderr.Should().NotContain(UnknownAuthority).And.NotContain($"https://{ContainerdMirrorFixture.Source}");
            var images = fixture.Containerd.Ctr("--namespace", ns, "images", "ls");
            images.Stdout.Should().Contain(reference.Contains('@', StringComparison.Ordinal) ? reference : $"{reference} ")
                .And.Contain(fixture.PushedDigest, "the manifest containerd stored is the pushed one");
        }
        fixture.Registry.Log.Should().Contain($"http.request.uri=\"/v2/{ContainerdMirrorFixture.MirrorNamespace}/{ContainerdMirrorFixture.Repository}/manifests/{ContainerdMirrorFixture.Tag}?ns={ContainerdMirrorFixture.Source}\"",
            "containerd put the mirror's path in front of the repository, as registries.conf maps it");
    }

    [SkippableFact]
    public void Without_a_ca_line_the_same_pulls_fail_with_an_unknown_authority_and_never_reach_the_source()
    {
        Require();
        using var root = Render(fixture.ManifestsWithoutCaDir, out _);
        root.Read($"etc/containerd/certs.d/{ContainerdMirrorFixture.Source}/hosts.toml").Should().NotContain("ca = ");
        using var client = new NodeRootSkopeo(root.Path);

        foreach (var reference in new[] { fixture.ByDigest, ContainerdMirrorFixture.ByTag })
        {
            var fetch = Fetch(client, Namespace(), reference);
            fetch.ExitCode.Should().NotBe(0, fetch.ToString());
            fetch.Stderr.Should().Contain($"https://{fixture.Registry.HostPort}/v2/{ContainerdMirrorFixture.MirrorNamespace}/{ContainerdMirrorFixture.Repository}/manifests/")
                .And.Contain(UnknownAuthority, "the mirror is tried over verified TLS and nothing else trusts its CA")
                .And.NotContain($"https://{ContainerdMirrorFixture.Source}", "NeverContactSource: the server is never tried for a pull");
        }
    }

    [SkippableFact]
    public void The_push_only_server_is_what_keeps_pulls_off_the_source()
    {
        Require();
        using var root = Render(fixture.ManifestsDir, out _);
        using var client = new NodeRootSkopeo(root.Path);
        var missing = $"{ContainerdMirrorFixture.Source}/{ContainerdMirrorFixture.Repository}:missing";

        var kept = Fetch(client, Namespace(), missing);
        kept.ExitCode.Should().NotBe(0);
        kept.Stderr.Should().Contain("not found").And.NotContain($"https://{ContainerdMirrorFixture.Source}/v2/",
            "after the mirror answers 404, containerd has no other host that may resolve");

        // The control: the same file without the capabilities line under server.
        var hostsToml = root.File($"etc/containerd/certs.d/{ContainerdMirrorFixture.Source}/hosts.toml");
        File.WriteAllText(hostsToml, File.ReadAllText(hostsToml).Replace("capabilities = [\"push\"]\n", "", StringComparison.Ordinal));
        var contacted = Fetch(client, Namespace(), missing);
        contacted.ExitCode.Should().NotBe(0);
        contacted.Stderr.Should().Contain($"https://{ContainerdMirrorFixture.Source}/v2/{ContainerdMirrorFixture.Repository}/manifests/missing",
            "without it containerd falls back to the source (its name lookup goes to 127.0.0.1 here and fails)");
    }

    [SkippableFact]
    public void A_repository_scoped_source_is_not_written_so_its_pulls_never_reach_the_mirror()
    {
        Require();
        using var root = Render(fixture.ManifestsDir, out _);
        Directory.Exists(root.File("etc/containerd/certs.d/scoped.e2e.invalid")).Should().BeFalse();
        using var client = new NodeRootSkopeo(root.Path);
        var before = fixture.Registry.Log.Length;

        var fetch = Fetch(client, Namespace(), $"{ContainerdMirrorFixture.ScopedSource}@{fixture.PushedDigest}");

        fetch.ExitCode.Should().NotBe(0, "with no hosts.toml containerd goes to the source itself, which does not resolve");
        fixture.Registry.Log[before..].Should().NotContain("ns=scoped.e2e.invalid", "the mirror received nothing for the skipped source");
    }

    public static TheoryData<string, string> GoldenHostsFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (var (root, relative) in ContainerdGoldenTests.ExpectedHostsFiles())
        {
            data.Add(Path.GetRelativePath(Path.Join(RepoPaths.TestData, ContainerdGoldenTests.Area), root), relative);
        }
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(GoldenHostsFiles))]
    public void Ctr_reads_every_golden_hosts_toml_and_tries_its_endpoints_in_file_order(string expectedRoot, string relative)
    {
        Require();
        using var root = new TempRoot("containerd-golden");
        foreach (var (file, bytes) in GoldenCase.EtcFiles(Path.Join(RepoPaths.TestData, ContainerdGoldenTests.Area, expectedRoot)))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(root.File(file))!);
            File.WriteAllBytes(root.File(file), bytes);
        }
        var registry = Path.GetFileName(Path.GetDirectoryName(relative))!;
        var shape = HostsTomlShape.Parse(File.ReadAllText(root.File(relative)));
        using var client = new NodeRootSkopeo(root.Path);

        foreach (var (reference, capability) in new[] { ("v1", "resolve"), (EmptyDigest, "pull") })
        {
            var separator = reference.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":";
            var fetch = Fetch(client, Namespace(), $"{registry}/probe/app{separator}{reference}", withoutNetwork: true);
            fetch.Stderr.Should().NotContain("failed to decode", $"containerd parses {relative}")
                .And.NotContain("unable to read CA cert", "every ca it names exists")
                .And.NotContain("unable to load CA cert");
            var tried = Attempts().Matches(fetch.Stderr).Select(m => m.Groups["url"].Value).Where(u => u.Contains("/manifests/", StringComparison.Ordinal)).ToList();
            var expected = shape.TryOrder.Where(e => e.Can("pull") && e.Can(capability)).Select(e => e.ManifestUrl("probe/app", reference)).ToList();
            tried.Should().Equal(expected, $"ctr tries the endpoints of {relative} for {(capability == "pull" ? "a digest" : "a tag")} in file order\n{fetch}");
        }
    }

    private static string Namespace() => $"e2e-{Guid.NewGuid():N}";

    private ProcessResult Fetch(NodeRootSkopeo client, string ns, string reference, bool withoutNetwork = false)
    {
        var result = client.RunProgram(
            [ContainerdDaemon.CtrProgram!, "--address", fixture.Containerd.Socket, "--namespace", ns, "content", "fetch", "--hosts-dir", "/etc/containerd/certs.d", reference],
            TimeSpan.FromSeconds(60), withoutNetwork);
        output.WriteLine($"ctr content fetch {reference}: exit {result.ExitCode}\n{result.Stderr.Trim()}");
        return result;
    }

    private TempRoot Render(string manifests, out ProcessResult run)
    {
        var root = new TempRoot("containerd-root");
        run = NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", root.Path, "--reload-command", "", "--runtime", "containerd"]);
        output.WriteLine($"node-agent --once --runtime containerd: exit {run.ExitCode}\n{run.Stderr}");
        run.ExitCode.Should().Be(0, run.ToString());
        Directory.Exists(root.File("etc/containers")).Should().BeFalse("--runtime containerd writes no CRI-O file");
        return root;
    }

    private void Require()
    {
        Requires.Available(fixture.NotRunReason is null ? null : $"{fixture.NotRunReason}, so containerd cannot read the hosts.toml files");
        output.WriteLine($"containerd: {ContainerdDaemon.DaemonProgram} on {fixture.Containerd.Socket}; registry on {fixture.Registry.HostPort}; pushed {fixture.PushedDigest}");
    }

    // containerd logs each failed endpoint as: msg="trying next host" error="failed to do request: Head \"URL\": …".
    [GeneratedRegex("""msg="trying next host" error="failed to do request: (?:Head|Get) \\"(?<url>[^"?\\]+)""")]
    private static partial Regex Attempts();
}
