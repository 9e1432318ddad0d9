using System.Diagnostics;
using System.Net;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// Drift in the daemon: someone else editing, replacing or deleting a file node-agent wrote is
/// seen through inotify and restored without any API change, never faster than the drift back-off
/// (<c>DriftBackoffSeconds</c>), while API changes and SIGTERM are still served at once.
/// </summary>
public sealed partial class DaemonTests
{
    private const string CaFile = "etc/docker/certs.d/mirror.example:5000/ca.crt";

    private static Dictionary<string, string> DriftBackoff(int seconds) => new() { ["NODEAGENT_DriftBackoffSeconds"] = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static int Reloads(string file) => File.Exists(file) ? File.ReadAllLines(file).Length : 0;

    private static int Restores(DaemonProcess daemon, string path) => daemon.Log.Count(l => l.Contains($"restored {path} (", StringComparison.Ordinal));

    [Fact]
    public async Task Hand_edits_of_registries_conf_and_a_CA_file_are_restored_without_an_API_change()
    {
        var reloads = _work.File("reloads");
        var objects = Join(Image("insecureRegistries: [\"good.example\"]", caName: "cas"), CaConfigMap("cas", "mirror.example..5000", CaA));
        _cluster.Apply(objects);
        var (daemon, endpoint) = await StartAsync(DriftBackoff(2), "--reload-command", $"echo x >> {reloads}", "--health-command", "true");
        await ConvergeAsync(daemon, objects, "the objects");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
        daemon.LogText.Should().Contain("for other writers changing the files node-agent manages; a drifted file is restored at most every 2 s");
        var expected = Actual();
        var reloadsBefore = Reloads(reloads);
        var requests = _cluster.Server.Requests.Count;

        File.AppendAllText(Path.Join(Root, RegistriesConf), "[[registry]]\n  location = \"hand-edit.example\"\n");
        await daemon.WaitForAsync(() => Same(Actual(), expected), "registries.conf restored", TimeSpan.FromSeconds(2 + 5));
        await daemon.WaitForLogAsync($"drift: {RegistriesConf} was changed by another writer (node-agent cannot tell which) since node-agent wrote it; restoring node-agent's content now");
        daemon.LogText.Should().Contain("+  location = \"hand-edit.example\"");
        await daemon.WaitForAsync(() => Reloads(reloads) == reloadsBefore + 1, "the runtime reloaded for the restored registries.conf");

        File.WriteAllText(Path.Join(Root, CaFile), "not a certificate\n");
        await daemon.WaitForAsync(() => Same(Actual(), expected), "the CA file restored", TimeSpan.FromSeconds(2 + 5));
        File.Delete(Path.Join(Root, CaFile));
        await daemon.WaitForAsync(() => Same(Actual(), expected), "the deleted CA file restored", TimeSpan.FromSeconds(2 + 5));
        await daemon.WaitForAsync(() => MetricAsync(endpoint, "node_agent_drift_total{file=\"ca\"}").Result >= 2, "both CA drifts counted");

        (await MetricAsync(endpoint, "node_agent_drift_total{file=\"registries.conf\"}")).Should().Be(1);
        (await MetricAsync(endpoint, "node_agent_drift_total{file=\"policy.json\"}")).Should().Be(0);
        Reloads(reloads).Should().Be(reloadsBefore + 1, "a CA file needs no reload");
        (await MetricAsync(endpoint, "node_agent_sync_total{result=\"unchanged\"}")).Should().Be(0, "node-agent's own writes never wake a pass");
        _cluster.Server.Requests.Count.Should().Be(requests, "restoring needs nothing from the API server");
        await ReadyzAsync(daemon, endpoint, HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_writer_fighting_over_registries_conf_is_answered_no_faster_than_the_back_off_and_the_daemon_calms_down()
    {
        var image = Image("insecureRegistries: [\"good.example\"]");
        _cluster.Apply(image);
        var (daemon, endpoint) = await StartAsync(DriftBackoff(1));
        await ConvergeAsync(daemon, image, "the Image");
        var expected = Actual();
        var conf = Path.Join(Root, RegistriesConf);

        // Another writer puts its own registries.conf back every 50 ms for 4 s.
        var fight = Stopwatch.StartNew();
        var writes = 0;
        while (fight.Elapsed < TimeSpan.FromSeconds(4))
        {
            File.WriteAllText(conf, "unqualified-search-registries = [\"other-writer.example\"]\n");
            writes++;
            await Task.Delay(50);
        }
        var restoresDuringFight = Restores(daemon, RegistriesConf);
        output.WriteLine($"{writes} foreign writes in {fight.Elapsed.TotalSeconds:0.0} s; {restoresDuringFight} restores");

        // At 1 s apart with no doubling that would be 5; doubling (1, 2, 4 s) allows at most 3.
        restoresDuringFight.Should().BeInRange(1, 4);
        await daemon.WaitForAsync(() => Same(Actual(), expected), "registries.conf restored once the other writer stopped", TimeSpan.FromSeconds(20));
        // The console logger writes from its own thread: wait until the log has every drift counted.
        var drifts = await MetricAsync(endpoint, "node_agent_drift_total{file=\"registries.conf\"}");
        await daemon.WaitForAsync(() => daemon.Log.Count(l => l.Contains($"drift: {RegistriesConf} was changed", StringComparison.Ordinal)) == drifts, "one warning per drift counted");
        daemon.LogText.Should().Contain($"drift: another writer keeps changing {RegistriesConf}; node-agent backs off and restores it at most every 2 s");
        var restores = Restores(daemon, RegistriesConf);
        restores.Should().BeInRange(2, 5);
        drifts.Should().BeInRange(restores, restores + 1, "one warning per restore, and at most one more for content seen while held back");

        // Calm: nothing more to do, so nothing more happens.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Restores(daemon, RegistriesConf).Should().Be(restores);
        Same(Actual(), expected).Should().BeTrue();
    }

    [Fact]
    public async Task While_a_restore_is_held_back_API_changes_apply_and_SIGTERM_exits_0_quickly()
    {
        var image = Image("insecureRegistries: [\"good.example\"]", caName: "cas");
        _cluster.Apply(Join(image, CaConfigMap("cas", "mirror.example..5000", CaA)));
        var (daemon, endpoint) = await StartAsync(DriftBackoff(30));
        await ConvergeAsync(daemon, Join(image, CaConfigMap("cas", "mirror.example..5000", CaA)), "the objects");
        var conf = Path.Join(Root, RegistriesConf);
        var ours = File.ReadAllText(conf);

        File.AppendAllText(conf, "# first hand edit\n");
        await daemon.WaitForAsync(() => File.ReadAllText(conf) == ours, "the first drift restored at once");
        File.AppendAllText(conf, "# second hand edit\n");

        var caChange = CaConfigMap("cas", "mirror.example..5000", CaA) + "\n  other.example..5000: |\n" +
            string.Join('\n', CaB.Pem.TrimEnd('\n').Split('\n').Select(l => "    " + l));
        _cluster.Apply(caChange);
        await daemon.WaitForAsync(() => File.Exists(Path.Join(Root, "etc/docker/certs.d/other.example:5000/ca.crt")), "the API change applied");
        await daemon.WaitForLogAsync("restoring it in ");
        File.ReadAllText(conf).Should().EndWith("# second hand edit\n", "the restore waits for the back-off");
        (await GetAsync(endpoint, "/readyz")).Status.Should().Be(HttpStatusCode.OK);

        var (exitCode, took) = await daemon.TerminateAsync();
        exitCode.Should().Be(0, daemon.LogText);
        took.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }
}
