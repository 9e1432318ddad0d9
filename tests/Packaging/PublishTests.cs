using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Packaging;

/// <summary>
/// The self-contained, trimmed ReadyToRun build of <c>make publish</c> behaves as <c>bin/node-agent</c>:
/// the same stdout, exit codes, error text and written bytes, and a daemon that lists and watches
/// over TLS, decodes JSON, and serves its endpoints. Trimming removes code that nothing appears to
/// call, so each path that reflection or a framework feature switch could break is exercised here
/// through the published binary itself. The published binary runs with <c>DOTNET_ROOT</c> pointing
/// nowhere: it must not need an installed runtime.
/// </summary>
public sealed partial class PublishTests : IDisposable
{
    private static readonly Dictionary<string, string> NoRuntime = new() { ["DOTNET_ROOT"] = "/nonexistent" };

    /// <summary>The example files the fake API server can serve (unrelated.yaml holds a Deployment).</summary>
    private static readonly string[] ExampleObjects =
        ["image-cluster.yaml", "cluster-version.yaml", "idms-release.yaml", "itms-tools.yaml", "icsp-oc-mirror.yaml", "ca-configmap.yaml"];

    private readonly TempRoot _work = new("publish");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static ProcessResult Published(params string[] args) =>
        NodeAgentProcess.RunBinary(RepoPaths.PublishedBinary, args, NoRuntime);

    private static ProcessResult Built(params string[] args) => NodeAgentProcess.Run(args);

    [Theory]
    [InlineData("--version")]
    [InlineData("--help")]
    public void Version_and_help_print_the_same(string option)
    {
        var built = Built(option);
        var published = Published(option);

        published.ExitCode.Should().Be(0, published.ToString());
        published.Stdout.Should().Be(built.Stdout);
        published.Stderr.Should().Be(built.Stderr);
    }

    [Fact]
    public void Once_from_the_examples_writes_the_same_bytes()
    {
        var builtRoot = _work.File("built");
        var publishedRoot = _work.File("published");

        var built = Built("--once", "--manifests", RepoPaths.Examples, "--root", builtRoot, "--reload-command", "");
        var published = Published("--once", "--manifests", RepoPaths.Examples, "--root", publishedRoot, "--reload-command", "");

        built.ExitCode.Should().Be(0, built.ToString());
        published.ExitCode.Should().Be(0, published.ToString());
        published.Stdout.Should().Be(built.Stdout);
        var written = DirectorySnapshot.Of(publishedRoot);
        written.Keys.Should().Contain(["etc/containers/registries.conf", "etc/containers/policy.json", "var/lib/node-agent/state.json"]);
        written.Keys.Should().Contain(k => k.EndsWith("/ca.crt", StringComparison.Ordinal), "the example's CA ConfigMap is parsed as X.509");
        // status.json records when the pass ran; both say the same apart from the time.
        const string Status = "var/lib/node-agent/status.json";
        written.Keys.Should().Contain(Status);
        written.Where(e => e.Key != Status).Should().Equal(DirectorySnapshot.Of(builtRoot).Where(e => e.Key != Status));
        Regex.Replace(File.ReadAllText(Path.Join(publishedRoot, Status)), "\"time\": \"[^\"]*\"", "")
            .Should().Be(Regex.Replace(File.ReadAllText(Path.Join(builtRoot, Status)), "\"time\": \"[^\"]*\"", ""));
    }

    [Fact]
    public void Every_assembly_in_the_publish_folder_is_in_its_deps_json()
    {
        // The host loads only what deps.json lists: an assembly copied but not listed cannot be
        // loaded, and the daemon would fail the first time it needs it.
        var folder = Path.GetDirectoryName(RepoPaths.PublishedBinary)!;
        var deps = File.ReadAllText(Path.Join(folder, "node-agent.deps.json"));
        var assemblies = Directory.EnumerateFiles(folder, "*.dll").Select(Path.GetFileName)
            .Where(name => name!.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.", StringComparison.Ordinal))
            .ToList();

        assemblies.Should().NotBeEmpty();
        assemblies.Should().OnlyContain(name => deps.Contains($"\"{name}\"", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dry_run_prints_the_same_diff()
    {
        var root = _work.File("dry");
        Directory.CreateDirectory(Path.Join(root, "etc", "containers"));
        File.WriteAllText(Path.Join(root, "etc", "containers", "registries.conf"), "unqualified-search-registries = [\"docker.io\"]\n");

        var built = Built("--once", "--manifests", RepoPaths.Examples, "--root", root, "--dry-run");
        var published = Published("--once", "--manifests", RepoPaths.Examples, "--root", root, "--dry-run");

        built.ExitCode.Should().Be(0, built.ToString());
        published.ExitCode.Should().Be(0, published.ToString());
        published.Stdout.Should().Contain("+++ b/etc/containers/registries.conf").And.Be(built.Stdout);
    }

    /// <summary>
    /// Messages come from resources trimming could strip (the runtime's, YamlDotNet's, node-agent's
    /// own); each must still name the file, line and field in full.
    /// </summary>
    [Fact]
    public void Invalid_input_fails_with_the_same_readable_messages()
    {
        var manifests = _work.File("bad");
        _work.Write("bad/broken.yaml", "kind: ImageDigestMirrorSet\nmetadata: {name: x\n  spec: [\n");
        _work.Write("bad/idms.yaml", Manifests.Idms("dev-mirrors", "- source: registry.example/team\n  mirrors: [\"*.x/y\"]"));
        _work.Write("bad/settings.json", "{\"BackoffCapSeconds\": \"soon\"}");

        foreach (var args in new[]
        {
            new[] { "--once", "--manifests", manifests, "--root", _work.File("root"), "--reload-command", "" },
            ["--once", "--manifests", manifests, "--root", _work.File("root"), "--config", _work.File("bad/settings.json")],
            ["--once", "--no-such-option"],
        })
        {
            var built = Built(args);
            var published = Published(args);

            built.ExitCode.Should().Be(2, built.ToString());
            published.ExitCode.Should().Be(built.ExitCode, published.ToString());
            published.Stdout.Should().Be(built.Stdout);
            Problems(published).Should().NotBeEmpty().And.Equal(Problems(built));
        }
        Directory.Exists(_work.File("root")).Should().BeFalse("exit 2 creates nothing below --root");
    }

    /// <summary>
    /// The daemon against the fake API server: kubeconfig YAML, TLS trusting only the given CA,
    /// list and watch JSON, the Kestrel endpoints and the metrics text, and SIGTERM.
    /// </summary>
    [Fact]
    public async Task The_daemon_syncs_from_the_API_server_serves_its_endpoints_and_stops_on_SIGTERM()
    {
        await using var cluster = await FakeCluster.StartAsync();
        var objects = string.Join("\n---\n", ExampleObjects.Select(f => File.ReadAllText(Path.Join(RepoPaths.Examples, f))));
        cluster.Apply(objects);
        var root = _work.File("daemon-root");

        using var daemon = DaemonProcess.Start(
            ["--kubeconfig", cluster.Kubeconfig, "--root", root, "--listen", "127.0.0.1:0", "--reload-command", ""],
            NoRuntime, RepoPaths.PublishedBinary);
        await daemon.WaitForLogAsync("serving /healthz");
        var endpoint = new Uri("http://" + daemon.Log.Select(l => ListeningLine().Match(l)).First(m => m.Success).Groups["endpoint"].Value);

        var expected = Oracle(objects);
        expected.Keys.Should().Contain(k => k.EndsWith("/ca.crt", StringComparison.Ordinal));
        await daemon.WaitForAsync(() => Etc(root).SequenceEqual(expected), "the examples' files");
        await daemon.WaitForAsync(() => Get(endpoint, "/readyz").Status == HttpStatusCode.OK, "/readyz 200");
        Get(endpoint, "/healthz").Status.Should().Be(HttpStatusCode.OK);
        var (status, metrics) = Get(endpoint, "/metrics");
        status.Should().Be(HttpStatusCode.OK);
        metrics.Should().Contain("# TYPE node_agent_sync_total counter").And.Contain("node_agent_sync_total{result=\"applied\"} 1");

        // A change arrives over the watch stream.
        var added = Manifests.Idms("added", "- source: added.example/team\n  mirrors: [\"mirror.example/added\"]");
        cluster.Apply(added);
        var changed = Oracle(objects + "\n---\n" + added);
        changed.Should().NotEqual(expected);
        await daemon.WaitForAsync(() => Etc(root).SequenceEqual(changed), "the files after a watched change");

        var (exitCode, took) = await daemon.TerminateAsync();
        exitCode.Should().Be(0, daemon.LogText);
        took.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    public void Dispose()
    {
        _http.Dispose();
        _work.Dispose();
    }

    /// <summary>The <c>error:</c> and <c>warning:</c> lines; log lines carry timings that differ between runs.</summary>
    private static string[] Problems(ProcessResult result) =>
        [.. result.StderrLines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal) || l.StartsWith("warning: ", StringComparison.Ordinal))];

    /// <summary>What <c>bin/node-agent --once --manifests</c> writes below etc/ for <paramref name="yaml"/>.</summary>
    private SortedDictionary<string, string> Oracle(string yaml)
    {
        var file = _work.Write($"oracle-{Guid.NewGuid():N}/objects.yaml", yaml);
        var root = Path.Join(Path.GetDirectoryName(file), "root");
        var run = Built("--once", "--manifests", file, "--root", root, "--reload-command", "");
        run.ExitCode.Should().Be(0, run.ToString());
        return Etc(root);
    }

    private static SortedDictionary<string, string> Etc(string root) => DirectorySnapshot.Of(Path.Join(root, "etc"));

    private (HttpStatusCode Status, string Body) Get(Uri endpoint, string path)
    {
        using var response = _http.GetAsync(new Uri(endpoint, path)).GetAwaiter().GetResult();
        return (response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
    }

    [GeneratedRegex(@"serving /healthz, /readyz and /metrics on http://(?<endpoint>\S+)")]
    private static partial Regex ListeningLine();
}
