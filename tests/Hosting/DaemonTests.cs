using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// The daemon as a user runs it: <c>bin/node-agent --kubeconfig … --listen 127.0.0.1:0</c> against
/// the in-process fake API server. Every expected file set is what <c>--once --manifests</c>
/// writes for the same objects, so the daemon is held to the one-shot renderer byte for byte.
/// Waits are conditions with deadlines; faults are the API server's (dropped watches, 410,
/// 5xx, going away, a type not served) and the runtime's (a failing reload).
/// </summary>
public sealed partial class DaemonTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const string RegistriesConf = "etc/containers/registries.conf";

    /// <summary>cli.md: every node converges within about 15 s of the API server being healthy again.</summary>
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(15);

    private static readonly ThrowawayCa CaA = ThrowawayCa.Create("daemon CA A");
    private static readonly ThrowawayCa CaB = ThrowawayCa.Create("daemon CA B");

    private readonly TempRoot _work = new("daemon");
    private readonly List<DaemonProcess> _daemons = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private FakeCluster _cluster = null!;

    private string Root => _work.File("root");

    public async Task InitializeAsync() => _cluster = await FakeCluster.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            daemon.Dispose();
        }
        await _cluster.DisposeAsync();
    }

    public void Dispose()
    {
        _http.Dispose();
        _work.Dispose();
    }

    // ---- objects --------------------------------------------------------------------------------

    private static string Image(string registrySources, string? caName = null) =>
        Manifests.Image(registrySources) + (caName is null ? "" : $"\n  additionalTrustedCA:\n    name: {caName}\n");

    private static string Idms(string name, string source, string mirror) =>
        Manifests.Idms(name, $"- source: {source}\n  mirrors: [\"{mirror}\"]");

    private static string Itms(string name, string source, string mirror) =>
        Manifests.Itms(name, $"- source: {source}\n  mirrors: [\"{mirror}\"]");

    private static string Icsp(string name, string source, string mirror) =>
        Manifests.Icsp(name, $"- source: {source}\n  mirrors: [\"{mirror}\"]");

    private static string CaConfigMap(string name, string registryKey, ThrowawayCa ca, string ns = "openshift-config") => $"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
          namespace: {ns}
        data:
          {registryKey}: |
        {string.Join('\n', ca.Pem.TrimEnd('\n').Split('\n').Select(l => "    " + l))}
        """;

    private static string Join(params string[] documents) => string.Join("\n---\n", documents);

    // ---- helpers -------------------------------------------------------------------------------

    private Task<(DaemonProcess Daemon, Uri Endpoint)> StartAsync(params string[] extra) => StartAsync(new Dictionary<string, string>(), extra);

    private async Task<(DaemonProcess Daemon, Uri Endpoint)> StartAsync(Dictionary<string, string> environment, params string[] extra)
    {
        environment.TryAdd("NODEAGENT_BackoffCapSeconds", "2");
        var daemon = DaemonProcess.Start(
            ["--kubeconfig", _cluster.Kubeconfig, "--root", Root, "--listen", "127.0.0.1:0", "--reload-command", "", .. extra],
            environment);
        _daemons.Add(daemon);
        await daemon.WaitForLogAsync("serving /healthz");
        var match = daemon.Log.Select(l => ListeningLine().Match(l)).First(m => m.Success);
        return (daemon, new Uri($"http://{match.Groups["endpoint"].Value}"));
    }

    /// <summary>What <c>--once --manifests</c> writes below etc/ for <paramref name="yaml"/>: the oracle.</summary>
    private SortedDictionary<string, string> Expected(string yaml)
    {
        var dir = _work.File($"oracle-{Guid.NewGuid():N}");
        File.WriteAllText(Path.Join(Directory.CreateDirectory(dir).FullName, "objects.yaml"), yaml);
        var root = Path.Join(dir, "root");
        var run = NodeAgentProcess.Run(["--once", "--manifests", Path.Join(dir, "objects.yaml"), "--root", root, "--reload-command", ""]);
        run.ExitCode.Should().Be(0, run.ToString());
        return Etc(root);
    }

    private SortedDictionary<string, string> Actual() => Etc(Root);

    private static SortedDictionary<string, string> Etc(string root) => DirectorySnapshot.Of(Path.Join(root, "etc"));

    private static bool Same(SortedDictionary<string, string> a, SortedDictionary<string, string> b) => a.SequenceEqual(b);

    private async Task ConvergeAsync(DaemonProcess daemon, string yaml, string what, TimeSpan? deadline = null)
    {
        var expected = Expected(yaml);
        await daemon.WaitForAsync(() => Same(Actual(), expected), $"files for {what}", deadline ?? Converge);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri endpoint, string path)
    {
        using var response = await _http.GetAsync(new Uri(endpoint, path));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits until /readyz answers <paramref name="status"/> with a body containing <paramref name="fragment"/>.</summary>
    private Task ReadyzAsync(DaemonProcess daemon, Uri endpoint, HttpStatusCode status, string fragment = "") =>
        daemon.WaitForAsync(() => GetAsync(endpoint, "/readyz").Result is var (code, body) && code == status && body.Contains(fragment, StringComparison.Ordinal),
            $"/readyz {(int)status} {fragment}");

    private async Task<double> MetricAsync(Uri endpoint, string series)
    {
        var (_, body) = await GetAsync(endpoint, "/metrics");
        var line = body.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    // ---- initial sync, every kind, the CA rename ------------------------------------------------

    [Fact]
    public async Task Initial_sync_writes_what_once_writes_and_reports_ready()
    {
        var objects = Join(
            Image("insecureRegistries: [\"insecure.example\"]\nblockedRegistries: [\"blocked.example\"]", caName: "registry-cas"),
            Manifests.ClusterVersion("quay.io/openshift-release-dev/ocp-release@sha256:" + new string('a', 64)),
            Idms("digest", "registry.example/team", "mirror.example/team"),
            Itms("tags", "tags.example/tools", "mirror.example/tools"),
            Icsp("legacy", "legacy.example/app", "mirror.example/app"),
            CaConfigMap("registry-cas", "mirror.example..5000", CaA));
        _cluster.Apply(objects);

        var (daemon, endpoint) = await StartAsync();
        await ConvergeAsync(daemon, objects, "the initial objects");

        Actual().Keys.Should().Contain("docker/certs.d/mirror.example:5000/ca.crt");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
        (await GetAsync(endpoint, "/healthz")).Status.Should().Be(HttpStatusCode.OK);
        (await MetricAsync(endpoint, "node_agent_sync_total{result=\"applied\"}")).Should().Be(1);
        (await MetricAsync(endpoint, "node_agent_ca_certificate_earliest_expiry_timestamp_seconds"))
            .Should().BeApproximately(CaA.NotAfter.ToUnixTimeSeconds(), 1);
        _cluster.Server.Requests.Should().Contain(r => r.Contains("resourceVersion=0", StringComparison.Ordinal) && !r.Contains("watch", StringComparison.Ordinal),
            "lists are served from the watch cache");
    }

    [Fact]
    public async Task Every_kind_changing_is_applied_and_a_second_identical_event_writes_nothing()
    {
        var image = Image("insecureRegistries: [\"one.example\"]", caName: "registry-cas");
        var ca = CaConfigMap("registry-cas", "mirror.example..5000", CaA);
        _cluster.Apply(Join(image, ca));
        var (daemon, endpoint) = await StartAsync();
        await ConvergeAsync(daemon, Join(image, ca), "the start");

        var state = Join(image, ca);
        async Task StepAsync(string apply, string what, string? delete = null)
        {
            if (delete is not null)
            {
                _cluster.Delete(delete);
            }
            if (apply.Length > 0)
            {
                _cluster.Apply(apply);
            }
            await ConvergeAsync(daemon, state, what, TimeSpan.FromSeconds(5));
        }

        var idms = Idms("digest", "registry.example/team", "mirror.example/team");
        state = Join(image, ca, idms);
        await StepAsync(idms, "an ImageDigestMirrorSet created");

        var itms = Itms("tags", "tags.example/tools", "mirror.example/tools");
        state = Join(image, ca, idms, itms);
        await StepAsync(itms, "an ImageTagMirrorSet created");

        var icsp = Icsp("legacy", "legacy.example/app", "mirror.example/app");
        state = Join(image, ca, idms, itms, icsp);
        await StepAsync(icsp, "an ImageContentSourcePolicy created");

        var idms2 = Idms("digest", "registry.example/team", "other-mirror.example/team");
        state = Join(image, ca, idms2, itms, icsp);
        await StepAsync(idms2, "an ImageDigestMirrorSet modified");

        state = Join(image, ca, idms2, itms);
        await StepAsync("", "an ImageContentSourcePolicy deleted", delete: icsp);

        var image2 = Image("insecureRegistries: [\"two.example\"]\ncontainerRuntimeSearchRegistries: [\"search.example\"]", caName: "registry-cas");
        state = Join(image2, ca, idms2, itms);
        await StepAsync(image2, "Image/cluster modified");

        var version = Manifests.ClusterVersion("quay.io/openshift-release-dev/ocp-release@sha256:" + new string('b', 64));
        var image3 = Image("blockedRegistries: [\"quay.io\"]", caName: "registry-cas");
        state = Join(image3, ca, idms2, itms, version);
        await StepAsync(Join(version, image3), "ClusterVersion created and quay.io blocked");

        var ca2 = CaConfigMap("registry-cas", "mirror.example..5000", CaB);
        state = Join(image3, ca2, idms2, itms, version);
        await StepAsync(ca2, "the CA ConfigMap's data changed");

        var managed = CaConfigMap("image-registry-ca", "internal.example..5000", CaA, ns: "openshift-config-managed");
        state = Join(image3, ca2, idms2, itms, version, managed);
        await StepAsync(managed, "the managed CA ConfigMap created");

        // The same objects again (a no-op update): a pass runs and writes nothing.
        var syncs = await MetricAsync(endpoint, "node_agent_sync_total{result=\"unchanged\"}");
        var written = await MetricAsync(endpoint, "node_agent_files_written_total");
        _cluster.Apply(itms);
        await daemon.WaitForAsync(() => MetricAsync(endpoint, "node_agent_sync_total{result=\"unchanged\"}").Result > syncs, "an unchanged pass");
        (await MetricAsync(endpoint, "node_agent_files_written_total")).Should().Be(written);
    }

    [Fact]
    public async Task The_CA_ConfigMap_follows_Image_cluster_when_it_is_renamed()
    {
        var before = Join(Image("insecureRegistries: []", caName: "cas-a"), CaConfigMap("cas-a", "a.example..5000", CaA));
        _cluster.Apply(Join(before, CaConfigMap("cas-b", "b.example..5000", CaB)));
        var (daemon, _) = await StartAsync();
        await ConvergeAsync(daemon, before, "CAs from cas-a");

        _cluster.Apply(Image("insecureRegistries: []", caName: "cas-b"));
        await ConvergeAsync(daemon, Join(Image("insecureRegistries: []", caName: "cas-b"), CaConfigMap("cas-b", "b.example..5000", CaB)), "CAs from cas-b", TimeSpan.FromSeconds(5));
        Actual().Keys.Should().NotContain(k => k.Contains("a.example", StringComparison.Ordinal), "the old ConfigMap's CA file is released");

        // A change to the ConfigMap no longer named has no effect; one to the new one does.
        var afterRename = Actual();
        _cluster.Apply(CaConfigMap("cas-a", "a2.example..5000", CaA));
        _cluster.Apply(CaConfigMap("cas-b", "b2.example..5000", CaB));
        await ConvergeAsync(daemon, Join(Image("insecureRegistries: []", caName: "cas-b"), CaConfigMap("cas-b", "b2.example..5000", CaB)), "the renamed ConfigMap's change", TimeSpan.FromSeconds(5));
        afterRename.Keys.Should().NotContain(k => k.Contains("a2.example", StringComparison.Ordinal));
        Actual().Keys.Should().NotContain(k => k.Contains("a2.example", StringComparison.Ordinal));
    }

    // ---- invalid input, rollback --------------------------------------------------------------

    [Fact]
    public async Task Invalid_input_keeps_the_files_names_the_problem_and_recovers_on_the_next_change()
    {
        var good = Join(Image("insecureRegistries: [\"good.example\"]"), Idms("digest", "registry.example/team", "mirror.example/team"));
        _cluster.Apply(good);
        var (daemon, endpoint) = await StartAsync();
        await ConvergeAsync(daemon, good, "the good objects");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
        var kept = Actual();

        _cluster.Apply(Idms("broken", "registry.example/team@sha256:abc", "mirror.example/x"));
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.ServiceUnavailable, "ImageDigestMirrorSet/broken");
        var (_, reason) = await GetAsync(endpoint, "/readyz");
        reason.Should().Contain("invalid input");
        daemon.LogText.Should().Contain("ImageDigestMirrorSet/broken").And.Contain("registry.example/team@sha256:abc");
        Same(Actual(), kept).Should().BeTrue("invalid input keeps the files");
        (await MetricAsync(endpoint, "node_agent_sync_total{result=\"invalid_input\"}")).Should().Be(1);
        (await MetricAsync(endpoint, "node_agent_render_errors_total")).Should().BeGreaterThan(0);

        _cluster.Delete(Idms("broken", "x", "y"));
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
        Same(Actual(), kept).Should().BeTrue();
    }

    [Fact]
    public async Task An_object_that_does_not_decode_is_invalid_input_naming_the_field()
    {
        _cluster.Apply(Image("insecureRegistries: [\"good.example\"]"));
        var (daemon, endpoint) = await StartAsync();
        await ConvergeAsync(daemon, Image("insecureRegistries: [\"good.example\"]"), "the Image");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);

        _cluster.Apply("apiVersion: config.openshift.io/v1\nkind: ImageTagMirrorSet\nmetadata: {name: odd}\nspec: {imageTagMirrors: {source: x}}");
        await daemon.WaitForLogAsync("ImageTagMirrorSet/odd: spec.imageTagMirrors");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.ServiceUnavailable, "ImageTagMirrorSet/odd");
    }

    [Fact]
    public async Task A_failing_reload_rolls_back_to_the_last_good_files_and_CA_only_changes_never_reload()
    {
        var reloads = _work.File("reloads");
        // The stand-in runtime refuses any registries.conf that mentions bad.example.
        var reload = $"echo x >> {reloads}; ! grep -q bad.example {Path.Join(Root, RegistriesConf)}";
        var good = Join(Image("insecureRegistries: [\"good.example\"]", caName: "cas"), CaConfigMap("cas", "mirror.example..5000", CaA));
        _cluster.Apply(good);
        var (daemon, endpoint) = await StartAsync("--reload-command", reload, "--health-command", "true");
        await ConvergeAsync(daemon, good, "the good objects");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
        var goodFiles = Actual();
        var reloadsAfterStart = File.ReadAllLines(reloads).Length;

        _cluster.Apply(Image("insecureRegistries: [\"bad.example\"]", caName: "cas"));
        await daemon.WaitForAsync(() => MetricAsync(endpoint, "node_agent_rollbacks_total").Result == 1, "a rollback");
        Same(Actual(), goodFiles).Should().BeTrue("the last good files are back");
        daemon.LogText.Should().Contain("rolled back");
        (await GetAsync(endpoint, "/readyz")).Body.Should().Contain("rolled back");
        (await MetricAsync(endpoint, "node_agent_reloads_total{result=\"failure\"}")).Should().Be(1);

        // Back to good, then a CA-only change: files change, no reload runs.
        _cluster.Apply(Image("insecureRegistries: [\"good.example\"]", caName: "cas"));
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
        var reloadsBeforeCa = File.ReadAllLines(reloads).Length;
        reloadsBeforeCa.Should().BeGreaterThan(reloadsAfterStart);
        var applied = await MetricAsync(endpoint, "node_agent_sync_total{result=\"applied\"}");
        var caChange = Join(Image("insecureRegistries: [\"good.example\"]", caName: "cas"), CaConfigMap("cas", "mirror.example..5000", CaB));
        _cluster.Apply(CaConfigMap("cas", "mirror.example..5000", CaB));
        await ConvergeAsync(daemon, caChange, "the CA change", TimeSpan.FromSeconds(5));
        await daemon.WaitForAsync(() => MetricAsync(endpoint, "node_agent_sync_total{result=\"applied\"}").Result > applied, "the CA pass finished");
        File.ReadAllLines(reloads).Length.Should().Be(reloadsBeforeCa, "a CA-only change needs no reload");
    }

    // ---- faults --------------------------------------------------------------------------------

    /// <summary>
    /// Samples registries.conf while a fault runs: every version seen must be one a complete
    /// snapshot renders (the old or the new one), never an empty or half-known cluster's.
    /// </summary>
    private sealed class FileWatch : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;
        private readonly HashSet<string> _seen = [];

        public FileWatch(string path)
        {
            _sampling = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        lock (_seen)
                        {
                            _seen.Add(File.ReadAllText(path));
                        }
                    }
                    catch (IOException)
                    {
                    }
                    await Task.Delay(5).ConfigureAwait(false);
                }
            });
        }

        public IReadOnlyCollection<string> Seen
        {
            get
            {
                lock (_seen)
                {
                    return [.. _seen];
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _sampling;
            _stop.Dispose();
        }
    }

    private string ExpectedRegistries(string yaml) =>
        System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(Expected(yaml)["containers/registries.conf"]));

    private async Task FaultAsync(string what, Func<Task> breakIt, Func<Task> healIt)
    {
        var before = Join(Image("insecureRegistries: [\"before.example\"]"), Idms("digest", "registry.example/team", "mirror.example/team"));
        var after = Join(Image("insecureRegistries: [\"after.example\"]"), Idms("digest", "registry.example/team", "mirror.example/team"));
        _cluster.Apply(before);
        var (daemon, endpoint) = await StartAsync();
        await ConvergeAsync(daemon, before, "the objects before the fault");
        await daemon.WaitForAsync(() => _cluster.Server.OpenWatches >= FakeCluster.Collections.Count - 1, "every watch open");

        await using (var watch = new FileWatch(Path.Join(Root, RegistriesConf)))
        {
            await breakIt();
            _cluster.Apply(Image("insecureRegistries: [\"after.example\"]"));
            await healIt();
            var healed = System.Diagnostics.Stopwatch.StartNew();
            await ConvergeAsync(daemon, after, $"the change made during {what}");
            output.WriteLine($"{what}: converged {healed.ElapsedMilliseconds} ms after the server was healthy");
            watch.Seen.Should().BeSubsetOf([ExpectedRegistries(before), ExpectedRegistries(after)], "the files are never wrong in between");
        }
        (await MetricAsync(endpoint, "node_agent_sync_total{result=\"failed\"}")).Should().Be(0);
        daemon.HasExited.Should().BeFalse();
    }

    [Fact]
    public Task Dropped_watches_are_renewed() => FaultAsync("dropped watches",
        () =>
        {
            foreach (var (path, _, _) in FakeCluster.Collections)
            {
                _cluster.Collection(path).DropWatches();
            }
            return Task.CompletedTask;
        },
        () => Task.CompletedTask);

    [Fact]
    public Task A_410_Gone_relists() => FaultAsync("410 Gone",
        () =>
        {
            var images = _cluster.Collection(ResourceType.Images.Path);
            images.Compact();
            images.DropWatches();
            return Task.CompletedTask;
        },
        () => Task.CompletedTask);

    [Fact]
    public Task Server_errors_are_retried_with_backoff_until_the_server_is_healthy() => FaultAsync("503s",
        async () =>
        {
            _cluster.Server.FailAll(503);
            // Let every watch fail and back off a few times.
            await Task.Delay(TimeSpan.FromSeconds(3));
        },
        () =>
        {
            _cluster.Server.FailAll(null);
            return Task.CompletedTask;
        });

    [Fact]
    public Task The_server_going_away_and_coming_back_on_the_same_port() => FaultAsync("the server gone",
        async () =>
        {
            await _cluster.Server.GoAwayAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
        },
        () => _cluster.Server.ComeBackAsync());

    [Fact]
    public async Task A_type_the_server_does_not_serve_counts_as_empty_and_is_found_when_it_appears()
    {
        _cluster.Server.Unserve(ResourceType.ImageContentSourcePolicies.Path);
        var image = Image("insecureRegistries: [\"good.example\"]");
        _cluster.Apply(image);
        var (daemon, endpoint) = await StartAsync();
        await ConvergeAsync(daemon, image, "the objects without ICSPs");
        // The console logger writes from its own thread, so the warning can reach stderr after the files.
        await daemon.WaitForLogAsync("does not serve /apis/operator.openshift.io/v1alpha1/imagecontentsourcepolicies");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);

        var icsp = Icsp("legacy", "legacy.example/app", "mirror.example/app");
        _cluster.Apply(icsp);
        await ConvergeAsync(daemon, Join(image, icsp), "the ICSP once its type is served");
    }

    // ---- start, stop, systemd ------------------------------------------------------------------

    [Fact]
    public async Task Sigterm_exits_0_quickly_and_systemd_hears_ready_status_watchdog_and_stopping()
    {
        using var socket = new UnixDatagramReceiver(_work.File("notify.sock"));
        var image = Image("insecureRegistries: [\"good.example\"]");
        _cluster.Apply(image);
        var daemon = DaemonProcess.Start(
            ["--kubeconfig", _cluster.Kubeconfig, "--root", Root, "--reload-command", ""],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socket.Path, ["JOURNAL_STREAM"] = "8:1234", ["WATCHDOG_USEC"] = "400000" });
        _daemons.Add(daemon);
        await ConvergeAsync(daemon, image, "the first sync");
        await daemon.WaitForAsync(() => socket.Received.Any(m => m.Contains("READY=1", StringComparison.Ordinal)), "READY=1");
        socket.Received.First(m => m.Contains("READY=1", StringComparison.Ordinal)).Should().Contain("STATUS=applied");
        daemon.Log.Should().Contain(l => l.StartsWith("<6>", StringComparison.Ordinal), "journal priorities under systemd");
        await daemon.WaitForAsync(() => socket.Received.Count(m => m == "WATCHDOG=1") >= 2, "watchdog pings at half of WATCHDOG_USEC");

        var (exitCode, took) = await daemon.TerminateAsync();
        exitCode.Should().Be(0, daemon.LogText);
        took.Should().BeLessThan(TimeSpan.FromSeconds(5));
        socket.Received.Should().Contain(m => m.Contains("STOPPING=1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_server_at_start_still_sends_ready_and_converges_when_it_arrives()
    {
        using var socket = new UnixDatagramReceiver(_work.File("notify.sock"));
        await _cluster.Server.GoAwayAsync();
        var image = Image("insecureRegistries: [\"late.example\"]");
        _cluster.Apply(image);
        var daemon = DaemonProcess.Start(
            ["--kubeconfig", _cluster.Kubeconfig, "--root", Root, "--reload-command", ""],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socket.Path, ["NODEAGENT_BackoffCapSeconds"] = "2" });
        _daemons.Add(daemon);
        await daemon.WaitForAsync(() => socket.Received.Any(m => m.Contains("READY=1", StringComparison.Ordinal)), "READY=1 while the server is away");
        socket.Received.First(m => m.Contains("READY=1", StringComparison.Ordinal)).Should().Contain("STATUS=waiting for");
        Directory.Exists(Path.Join(Root, "etc")).Should().BeFalse("nothing is written from an incomplete snapshot");

        await _cluster.Server.ComeBackAsync();
        await ConvergeAsync(daemon, image, "the objects once the server is back");
    }

    [GeneratedRegex(@"serving /healthz, /readyz and /metrics on http://(?<endpoint>\S+)")]
    private static partial Regex ListeningLine();
}
