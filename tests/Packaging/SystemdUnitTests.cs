using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Packaging;

/// <summary>
/// systemd/node-agent.service: systemd itself finds nothing wrong with it, its sandbox scores
/// as the README says, and the settings that keep node-agent working inside that sandbox stay.
/// </summary>
public sealed class SystemdUnitTests(ITestOutputHelper output)
{
    private static readonly string[] Lines = File.ReadAllLines(PackagingTools.UnitFile);

    [SkippableFact]
    public void Systemd_analyze_verify_finds_nothing()
    {
        PackagingTools.Require("systemd-analyze");
        // verify checks that ExecStart's program exists, so it runs against a scratch root with
        // the host's units and an executable at /usr/bin/node-agent.
        using var root = new TempRoot("node-agent-unit");
        PackagingTools.AddHostSystemdUnits(root.Path);
        File.Copy(PackagingTools.UnitFile, root.File("usr/lib/systemd/system/node-agent.service"));
        var program = root.Write("usr/bin/node-agent", "#!/bin/sh\n");
        File.SetUnixFileMode(program, (UnixFileMode)0b111_101_101);

        var result = PackagingTools.Run("systemd-analyze", "verify", $"--root={root.Path}", "node-agent.service");

        output.WriteLine(result.ToString());
        result.ExitCode.Should().Be(0, result.ToString());
        (result.Stdout + result.Stderr).Should().BeEmpty("systemd-analyze verify must be clean");
    }

    [SkippableFact]
    public void Security_exposure_is_at_most_2()
    {
        var result = PackagingTools.Run("systemd-analyze", "security", "--offline=true", "--no-pager", PackagingTools.UnitFile);

        output.WriteLine(result.ToString());
        PackagingTools.ExposureOf(result.Stdout + result.Stderr).Should().BeLessThanOrEqualTo(2.0, "the README promises an exposure of at most 2.0");
    }

    [Theory]
    [InlineData("Type=notify", "node-agent sends READY=1 after its first reconcile attempt")]
    [InlineData("ExecStart=/usr/bin/node-agent --config /etc/node-agent/config.json $NODE_AGENT_ARGS", "the RPM installs the binary and the default config there")]
    [InlineData("EnvironmentFile=-/etc/sysconfig/node-agent", "the environment file is optional")]
    [InlineData("Restart=on-failure", "a crash restarts the daemon")]
    [InlineData("RestartPreventExitStatus=2 3", "a configuration error is not retried in a loop")]
    [InlineData("StateDirectory=node-agent", "state lives in /var/lib/node-agent")]
    [InlineData("ProtectSystem=strict", "everything else is read-only")]
    [InlineData("ReadWritePaths=-/etc/containers -/etc/docker/certs.d", "only the trees node-agent writes are writable")]
    [InlineData("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "HTTPS to the API server; AF_UNIX for sd_notify and for systemctl talking to PID 1")]
    [InlineData("NotifyAccess=main", "the reload command must not speak for the daemon")]
    [InlineData("CapabilityBoundingSet=", "root owns every file node-agent writes")]
    public void Unit_keeps(string line, string reason)
    {
        Lines.Should().Contain(line, reason);
    }

    [Theory]
    [InlineData("MemoryDenyWriteExecute=", "the .NET JIT needs writable, executable memory")]
    [InlineData("PrivateNetwork=", "the API server is on the network")]
    [InlineData("ConfigurationDirectory=", "it would make /etc/node-agent writable")]
    [InlineData("DynamicUser=", "only root may write /etc/containers and reload CRI-O")]
    [InlineData("User=", "only root may write /etc/containers and reload CRI-O")]
    public void Unit_never_sets(string prefix, string reason)
    {
        Lines.Should().NotContain(line => line.StartsWith(prefix, StringComparison.Ordinal), reason);
    }

    [Fact]
    public void Default_config_is_accepted_by_node_agent()
    {
        using var root = new TempRoot();
        var result = NodeAgentProcess.Run(
            ["--config", PackagingTools.ConfigFile, "--once", "--manifests", RepoPaths.Examples, "--root", root.Path, "--reload-command", "", "--dry-run"]);

        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public void The_runtime_may_set_its_affinity_and_the_default_reload_ignores_the_crio_ordering()
    {
        // systemd applies SystemCallFilter= lines in order: an allow line after the deny list puts
        // one call back. Without it the .NET runtime does not start (RealSystemdTests shows it live).
        var deny = Array.IndexOf(Lines, "SystemCallFilter=~@privileged @resources");
        deny.Should().BeGreaterThan(0);
        Array.IndexOf(Lines, "SystemCallFilter=sched_setaffinity").Should().BeGreaterThan(deny);
        // Before=crio.service would make a plain reload job wait for node-agent's own start job.
        Lines.Should().Contain("Before=crio.service");
        NodeAgent.Node.ReloadPlan.DefaultReload.Should().Be("systemctl reload --job-mode=ignore-dependencies crio.service");
    }
}
