using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Packaging;

/// <summary>
/// The RPM as <c>make rpm</c> builds it, installed with <c>rpm -i</c> into a Debian root booted with
/// systemd-nspawn (systemd 252 as PID 1, journald, D-Bus, polkitd), and run as an administrator
/// would: a kubeconfig in /etc/node-agent pointing at the tests' fake API server on the host's
/// 127.0.0.1, nothing else changed. Behind <c>systemctl reload crio.service</c> is a stand-in that
/// behaves like CRI-O on reload: <c>podman system service</c>, which caches registries.conf until
/// SIGHUP (<c>ExecReload=</c> sends it). Pulls through it go to a TLS registry on 127.0.0.1 trusted
/// only through the CA file node-agent writes. The root is built once by systemd-rootfs.sh and
/// cached under /var/tmp; every boot writes to a tmpfs overlay.
/// </summary>
[Collection("real systemd")]
public sealed partial class RealSystemdTests(ITestOutputHelper output)
{
    private const string Source = "registry.e2e.invalid/team/hello";
    private const string Unit = "node-agent.service";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(45);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [SkippableFact]
    public async Task ShippedUnitStartsReloadsTheStandInAndIsRemovedByRpm()
    {
        Requires.That(IsRoot(), "booting a container with systemd-nspawn needs root");
        var nspawn = Requires.Tool("systemd-nspawn", "systemd-container");
        Requires.Tool("debootstrap", "debootstrap");
        Requires.Tool("nsenter", "util-linux");
        Requires.Tool("skopeo", "skopeo");
        Requires.Available(TlsRegistry.Program is null ? "docker-registry is not installed: apt-get install docker-registry (make deps does it as root)" : null);
        var rpm = PackagingTools.Rpm;

        var root = Step("root file system (systemd-rootfs.sh, cached under /var/tmp)", BuildRoot);

        using var registry = TlsRegistry.Start();
        using var scratch = new TempRoot("real-systemd");
        var digestA = registry.Push(OciLayout.Write(scratch.File("image-a"), "v1", "hello.txt", "image A\n"), "team-a/hello", "v1");
        var digestB = registry.Push(OciLayout.Write(scratch.File("image-b"), "v1", "hello.txt", "image B\n"), "team-b/hello", "v1");
        await using var cluster = await FakeCluster.StartAsync();
        var imageYaml = ImageWithCa(registry);
        cluster.Apply(imageYaml);
        cluster.Apply(Mirrors(registry, "team-a"));

        var share = scratch.File("share");
        Directory.CreateDirectory(share);
        File.Copy(rpm, Path.Join(share, "node-agent.rpm"));
        File.Copy(cluster.Kubeconfig, Path.Join(share, "kubeconfig"));

        using var machine = Step("boot: systemd-nspawn -b --volatile=overlay --register=no --keep-unit", () => NspawnMachine.Boot(nspawn, root, share, "/test"));
        try
        {
            Step("rpm -i --nodeps (Debian's rpm database does not know the dpkg-installed libssl)", () =>
            {
                machine.RunOk("rpm -i --nodeps /test/node-agent.rpm");
                machine.RunOk("rpm -q node-agent").Should().StartWith($"node-agent-{PackagingTools.Version}-1");
                // Debian has no preset policy that disables units, so %post's preset enables it.
                machine.Run($"systemctl is-enabled {Unit}").Stdout.Trim().Should().Be("enabled");
            });
            Step("as an administrator: the kubeconfig, and a stand-in crio.service (not started)", () =>
            {
                machine.RunOk("install -m 0600 /test/kubeconfig /etc/node-agent/kubeconfig");
                machine.RunOk($"cat > /etc/systemd/system/crio.service <<'EOF'\n{StandInCrio}EOF\nsystemctl daemon-reload");
            });

            Step("A. crio.service not running: the shipped unit starts (READY=1) and writes the files", () =>
            {
                StartAndWaitActive(machine);
                machine.RunOk("cat /etc/containers/registries.conf").Should().Contain($"{registry.HostPort}/team-a/hello");
                ReloadCount(machine).Should().Be(0, "crio.service is not active, so nothing is reloaded");
            });
            Step("the files are what --once renders from the same objects", () =>
                SameAsOnce(machine, scratch, $"etc/docker/certs.d/{registry.HostPort}/ca.crt", imageYaml, Mirrors(registry, "team-a")));

            Step("B. crio.service active and the first pass changes files: start still reaches active, with exactly one reload", () =>
            {
                machine.RunOk($"systemctl stop {Unit}");
                machine.RunOk("systemctl start crio.service");
                WaitFor(() => machine.Run("test -S /run/crio-standin.sock").ExitCode == 0, "the stand-in's socket");
                Pull(machine).Should().Be(digestA, "the stand-in read registries.conf (team-a) when it started");
                cluster.Apply(Mirrors(registry, "team-b"));
                StartAndWaitActive(machine);
                machine.RunOk("cat /etc/containers/registries.conf").Should().Contain($"{registry.HostPort}/team-b/hello");
                ReloadCount(machine).Should().Be(1);
                machine.RunOk($"journalctl -u {Unit} -o cat --no-pager").Should().Contain(
                    "crio.service confirmed the reload: level=info msg=\"Applied new registry configuration: stand-in\"",
                    "node-agent reads crio.service's journal after the reload, as CRI-O logs it");
                machine.Run("systemctl is-active crio.service").Stdout.Trim().Should().Be("active");
                Pull(machine).Should().Be(digestB, "the reload made the stand-in read the new registries.conf");
            });

            Step("an API change (one object) reaches the file and causes exactly one reload; the next pull goes to the new mirror", () =>
            {
                cluster.Apply(TagMirrors(registry, "team-a"));
                WaitFor(() => machine.RunOk("cat /etc/containers/registries.conf").Contains($"{registry.HostPort}/team-a/hello", StringComparison.Ordinal), "registries.conf back at team-a");
                WaitFor(() => ReloadCount(machine) >= 2, "the second reload");
                // A later pass of the same change would reload again: give it the time to show.
                Thread.Sleep(TimeSpan.FromSeconds(2));
                ReloadCount(machine).Should().Be(2);
                Pull(machine).Should().Be(digestA);
                machine.Run($"systemctl show {Unit} -P NRestarts").Stdout.Trim().Should().Be("0");
            });

            Step("a reload CRI-O refuses in its journal (systemctl reload succeeded) rolls back, and the rollback is reloaded", () =>
            {
                var before = machine.RunOk("cat /etc/containers/registries.conf");
                var reloads = ReloadCount(machine);
                machine.RunOk("touch /run/crio-reject");
                cluster.Apply(Mirrors(registry, "team-a"));
                WaitFor(() => machine.RunOk($"journalctl -u {Unit} -o cat --no-pager").Contains("rolled back to the last good files", StringComparison.Ordinal), "the rollback");
                machine.RunOk($"journalctl -u {Unit} -o cat --no-pager").Should().Contain(
                    "crio.service refused the new configuration and keeps running with the old one (it would fail at its next start): level=error msg=\"Unable to reload configuration: stand-in refuses it\"");
                WaitFor(() => ReloadCount(machine) >= reloads + 2, "the reload of the rollback");
                machine.RunOk("cat /etc/containers/registries.conf").Should().Be(before, "the last good registries.conf is back");
                machine.Run("systemctl is-active crio.service").Stdout.Trim().Should().Be("active");
            });

            Step("journal priorities: info 6, warning 4 (taking over podman's registries.conf), error 3 (invalid Image)", () =>
            {
                cluster.Apply(InvalidImage);
                WaitFor(() => machine.RunOk($"journalctl -u {Unit} -o cat --no-pager").Contains("render failed", StringComparison.Ordinal), "the render error in the journal");
                var entries = machine.RunOk($"journalctl -u {Unit} -o json --no-pager --output-fields=PRIORITY,MESSAGE,SYSLOG_IDENTIFIER,_PID")
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(line => JsonDocument.Parse(line).RootElement)
                    .Where(e => e.TryGetProperty("SYSLOG_IDENTIFIER", out var id) && id.GetString() == "node-agent")
                    .Select(e => (Priority: e.GetProperty("PRIORITY").GetString(), Message: e.GetProperty("MESSAGE").GetString() ?? ""))
                    .ToList();
                entries.Should().Contain(e => e.Priority == "6" && e.Message.Contains(" starting: mode ", StringComparison.Ordinal));
                entries.Should().Contain(e => e.Priority == "4" && e.Message.Contains("took over", StringComparison.Ordinal));
                entries.Should().Contain(e => e.Priority == "3" && e.Message.Contains("render failed", StringComparison.Ordinal));
                entries.Where(e => e.Message.Contains("render failed", StringComparison.Ordinal)).Should().OnlyContain(e => e.Priority == "3");
                entries.Where(e => e.Message.Contains("took over", StringComparison.Ordinal)).Should().OnlyContain(e => e.Priority == "4");
                cluster.Apply(imageYaml);
            });

            Step("systemd-analyze security: exposure at most 2.0", () =>
            {
                var text = machine.RunOk($"systemd-analyze security {Unit} --no-pager");
                var match = ExposureLine().Match(text);
                match.Success.Should().BeTrue(text);
                var exposure = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                output.WriteLine($"    exposure {exposure.ToString(CultureInfo.InvariantCulture)}");
                exposure.Should().BeLessThanOrEqualTo(2.0, text);
            });

            Step("systemctl stop: within 5 s, inactive and not failed", () =>
            {
                var stopping = Stopwatch.StartNew();
                machine.RunOk($"systemctl stop {Unit}");
                stopping.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
                machine.RunOk($"systemctl show {Unit} -p ActiveState -p Result").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Should().BeEquivalentTo("ActiveState=inactive", "Result=success");
            });

            Step("rpm -e of the running service: stopped, disabled, unit and binary gone", () =>
            {
                StartAndWaitActive(machine);
                machine.RunOk("rpm -e --nodeps node-agent");
                machine.Run("rpm -q node-agent").ExitCode.Should().NotBe(0);
                machine.Run($"systemctl is-active {Unit}").Stdout.Trim().Should().NotBe("active");
                machine.RunOk("systemctl daemon-reload");
                machine.Run($"systemctl cat {Unit}").ExitCode.Should().NotBe(0, "the unit file is gone");
                machine.RunOk("for f in /usr/lib/systemd/system/node-agent.service /usr/lib/systemd/system/node-agent-bootstrap.service /usr/bin/node-agent /usr/lib64/node-agent /etc/systemd/system/multi-user.target.wants/node-agent.service; do "
                    + "if [ -e \"$f\" ] || [ -L \"$f\" ]; then echo \"$f\"; fi; done").Should().BeEmpty();
            });
        }
        catch (Exception e) when (e is not SkipException)
        {
            throw new InvalidOperationException($"{e.Message}\n{Diagnostics(machine)}", e);
        }
    }

    // The stand-in for CRI-O: podman's REST service caches registries.conf until SIGHUP, as CRI-O
    // does. Each reload says so on its stdout (the unit's journal), which is how reloads are counted.
    private const string StandInCrio = """
        [Unit]
        Description=stand-in for CRI-O: podman system service, re-reads registries.conf on SIGHUP
        [Service]
        Type=simple
        ExecStart=/usr/bin/podman --runtime runc --storage-driver vfs --cgroup-manager cgroupfs --events-backend file system service --time 0 unix:///run/crio-standin.sock
        ExecReload=/bin/sh -c 'echo "stand-in reload"; if [ -e /run/crio-reject ]; then rm -f /run/crio-reject; echo "level=error msg=\\"Unable to reload configuration: stand-in refuses it\\""; else echo "level=info msg=\\"Applied new registry configuration: stand-in\\""; fi; exec /bin/kill -HUP "$$MAINPID"'

        """;

    private const string InvalidImage = """
        apiVersion: config.openshift.io/v1
        kind: Image
        metadata: {name: cluster}
        spec:
          registrySources:
            allowedRegistries: [allow.example]
            blockedRegistries: [block.example]
        """;

    private static bool IsRoot() => File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");

    private static string ImageWithCa(TlsRegistry registry)
    {
        var pem = string.Join("\n", registry.Pki.CaPem.TrimEnd().Split('\n').Select(l => "    " + l));
        return $"""
            apiVersion: config.openshift.io/v1
            kind: Image
            metadata: {"{"}name: cluster{"}"}
            spec:
              additionalTrustedCA: {"{"}name: e2e-ca{"}"}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {"{"}name: e2e-ca, namespace: openshift-config{"}"}
            data:
              127.0.0.1..{registry.Port}: |
            {pem}
            """;
    }

    private static string Mirrors(TlsRegistry registry, string team) => DigestMirrors(registry, team) + "\n---\n" + TagMirrors(registry, team);

    private static string DigestMirrors(TlsRegistry registry, string team) =>
        Manifests.Idms("e2e-digest", $"- source: {Source}\n  mirrors: [{registry.HostPort}/{team}/hello]");

    // Tag pulls (the test pulls :v1) go through this one.
    private static string TagMirrors(TlsRegistry registry, string team) =>
        Manifests.Itms("e2e-tag", $"- source: {Source}\n  mirrors: [{registry.HostPort}/{team}/hello]");

    private string BuildRoot()
    {
        var script = Path.Join(RepoPaths.Root, "tests", "Packaging", "systemd-rootfs.sh");
        var result = NodeAgentProcess.Execute("bash", [script, "/var/tmp"], new Dictionary<string, string?>(), TimeSpan.FromMinutes(15));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"systemd-rootfs.sh failed: {result}");
        }
        return result.Stdout.Trim().Split('\n')[^1];
    }

    private void StartAndWaitActive(NspawnMachine machine)
    {
        // --no-block and a poll: a start that hangs (as the Before=crio.service deadlock did) fails
        // here in StartDeadline, with the jobs it waits for, instead of after TimeoutStartSec.
        machine.RunOk($"systemctl reset-failed {Unit} 2>/dev/null; systemctl start --no-block {Unit}");
        var started = Stopwatch.StartNew();
        var state = "";
        while (started.Elapsed < StartDeadline)
        {
            state = machine.Run($"systemctl show {Unit} -P ActiveState").Stdout.Trim();
            if (state is "active" or "failed")
            {
                break;
            }
            Thread.Sleep(200);
        }
        var jobs = machine.Run("systemctl list-jobs --no-pager").Stdout;
        state.Should().Be("active", $"systemctl start {Unit} should reach READY=1 within {StartDeadline.TotalSeconds} s; jobs:\n{jobs}");
        output.WriteLine($"    active after {started.Elapsed.TotalSeconds:0.0} s; status: {machine.Run($"systemctl show {Unit} -P StatusText").Stdout.Trim()}");
    }

    private static int ReloadCount(NspawnMachine machine) =>
        ReloadLine().Count(machine.RunOk("journalctl -u crio.service -o cat --no-pager"));

    // Through the stand-in's API, as the kubelet pulls through CRI-O: the digest of what it got.
    private static string Pull(NspawnMachine machine)
    {
        var api = "curl -s --max-time 60 --unix-socket /run/crio-standin.sock";
        var image = $"{Source}:v1";
        machine.Run($"{api} -X DELETE 'http://d/v4.0.0/libpod/images/{image}?force=true'");
        var pull = machine.RunOk($"{api} -X POST 'http://d/v4.0.0/libpod/images/pull?reference={image}&quiet=true'", TimeSpan.FromMinutes(2));
        var digest = machine.Run($"{api} 'http://d/v4.0.0/libpod/images/{image}/json' | jq -r .Digest").Stdout.Trim();
        return digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest : $"no image after the pull: {pull}";
    }

    private void SameAsOnce(NspawnMachine machine, TempRoot scratch, string caFile, params string[] yaml)
    {
        var manifests = scratch.File("once-manifests");
        Directory.CreateDirectory(manifests);
        for (var i = 0; i < yaml.Length; i++)
        {
            File.WriteAllText(Path.Join(manifests, $"{i:00}.yaml"), yaml[i]);
        }
        var onceRoot = scratch.File("once-root");
        Directory.CreateDirectory(onceRoot);
        var once = NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", onceRoot, "--reload-command", ""]);
        once.ExitCode.Should().Be(0, once.ToString());
        var rendered = Directory.EnumerateFiles(Path.Join(onceRoot, "etc"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(onceRoot, f)).Order(StringComparer.Ordinal).ToList();
        rendered.Should().Contain("etc/containers/registries.conf").And.Contain("etc/containers/policy.json").And.Contain(caFile);
        foreach (var file in rendered)
        {
            var inside = machine.RunOk($"base64 -w0 '/{file}'").Trim();
            Encoding.UTF8.GetString(Convert.FromBase64String(inside)).Should().Be(File.ReadAllText(Path.Join(onceRoot, file)), $"/{file} in the container and from --once");
        }
        output.WriteLine($"    same bytes: {string.Join(", ", rendered)}");
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"waited 30 s for {what}");
            }
            Thread.Sleep(200);
        }
    }

    private T Step<T>(string name, Func<T> step)
    {
        var at = _clock.Elapsed;
        output.WriteLine($"== [{at.TotalSeconds:0.0} s] {name}");
        var result = step();
        output.WriteLine($"   done in {(_clock.Elapsed - at).TotalSeconds:0.0} s");
        return result;
    }

    private void Step(string name, Action step) => Step(name, () =>
    {
        step();
        return 0;
    });

    private static string Diagnostics(NspawnMachine machine)
    {
        var report = machine.Run($"systemctl list-jobs --no-pager; systemctl status {Unit} crio.service --no-pager -l | tail -40; "
            + $"journalctl -u {Unit} -u crio.service --no-pager -o short-monotonic | tail -60", TimeSpan.FromSeconds(30));
        var boot = machine.BootLog.Split('\n');
        return $"--- diagnostics from the container\n{report.Stdout}{report.Stderr}\n--- systemd-nspawn and the console (last 40 lines)\n{string.Join('\n', boot.TakeLast(40))}";
    }

    [GeneratedRegex("^stand-in reload$", RegexOptions.Multiline)]
    private static partial Regex ReloadLine();

    [GeneratedRegex(@"Overall exposure level for node-agent\.service: ([0-9.]+)")]
    private static partial Regex ExposureLine();
}
