using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Packaging;

/// <summary>The RPM of <c>make rpm</c> installed once, with rpm itself, into a scratch root.</summary>
public sealed class InstalledRpm : IDisposable
{
    private readonly TempRoot _root = new("node-agent-rpm-root");

    public InstalledRpm()
    {
        // A fixture that throws fails every test of the class: without rpm the tests skip instead.
        Unavailable = PackagingTools.Missing("rpm");
        if (Unavailable is not null)
        {
            return;
        }
        PackagingTools.RunOk("rpm", "--root", _root.Path, "--initdb");
        // Scriptlets would run systemctl inside the scratch root, which has no shell: the
        // scriptlets are checked by their text instead (Scriptlets_preset_stop_and_restart_the_unit).
        PackagingTools.RunOk("rpm", "--root", _root.Path, "--nodeps", "--noscripts", "-i", PackagingTools.Rpm);
    }

    /// <summary>Null when the package is installed in <see cref="Root"/>; else why not (rpm is missing).</summary>
    public string? Unavailable { get; }

    public string Root => _root.Path;

    public string File(string absolute) => _root.File(absolute.TrimStart('/'));

    public void Dispose() => _root.Dispose();
}

/// <summary>
/// rpm/node-agent.spec as built by <c>make rpm</c>: rpmlint's verdict, the exact file list, the
/// systemd scriptlets, its dependencies, and what an installation puts on disk. Without rpm (whose
/// Debian package also holds rpmbuild, so no RPM can be built either) every test is skipped, and
/// fails with <c>CI=true</c>; with rpm, a missing RPM fails them, naming <c>make rpm</c>.
/// </summary>
public sealed partial class RpmPackageTests(InstalledRpm installed, ITestOutputHelper output) : IClassFixture<InstalledRpm>
{
    private const string LibDirectory = "/usr/lib64/node-agent";

    /// <summary>The warnings README.md explains; anything else is a new finding to fix or explain.</summary>
    private static readonly string[] ExplainedWarnings =
    [
        "node-agent.x86_64: W: no-url-tag",
        "node-agent.x86_64: W: no-manual-page-for-binary node-agent",
        // Debian's rpmlint ships an empty ValidLicenses list, so it flags every License tag.
        "node-agent.x86_64: W: invalid-license Apache-2.0",
        "node-agent.spec: W: no-buildroot-tag",
        "node-agent.spec: W: invalid-url Source0: node-agent-VERSION.tar",
    ];

    [SkippableFact]
    public void Rpmlint_reports_no_error_and_only_the_explained_warnings()
    {
        Requires.Available(installed.Unavailable);
        PackagingTools.Require("rpmlint");
        var result = PackagingTools.Run("rpmlint", "-r", PackagingTools.RpmlintConfig, PackagingTools.Rpm, PackagingTools.SpecFile);
        output.WriteLine(result.ToString());

        var findings = result.Stdout.Split('\n').Where(line => FindingLine().IsMatch(line)).Select(line => line.TrimEnd()).ToList();
        findings.Where(line => line.Contains(": E: ", StringComparison.Ordinal)).Should().BeEmpty();
        result.Stdout.Should().Contain(" 0 errors,");
        findings.Should().BeEquivalentTo(ExplainedWarnings.Select(w => w.Replace("VERSION", PackagingTools.Version, StringComparison.Ordinal)));
        result.ExitCode.Should().Be(0, result.ToString());
    }

    [SkippableFact]
    public void File_list_is_exactly_the_publish_folder_the_unit_and_the_configuration()
    {
        Requires.Available(installed.Unavailable);
        var expected = new List<string>
        {
            "/etc/containers",
            "/etc/docker",
            "/etc/docker/certs.d",
            "/etc/node-agent",
            "/etc/node-agent/bootstrap-manifests",
            "/etc/node-agent/config.json",
            "/etc/sysconfig/node-agent",
            "/usr/bin/node-agent",
            "/usr/lib/systemd/system/node-agent-bootstrap.service",
            "/usr/lib/systemd/system/node-agent.service",
            "/usr/share/doc/node-agent",
            "/usr/share/doc/node-agent/README.md",
            "/usr/share/licenses/node-agent",
            "/usr/share/licenses/node-agent/LICENSE",
            LibDirectory,
        };
        expected.AddRange(Directory.EnumerateFileSystemEntries(PackagingTools.PublishDirectory, "*", SearchOption.AllDirectories)
            .Select(path => LibDirectory + "/" + Path.GetRelativePath(PackagingTools.PublishDirectory, path)));

        var listed = PackagingTools.RunOk("rpm", "-qlp", PackagingTools.Rpm).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        listed.Should().BeEquivalentTo(expected);
    }

    [SkippableFact]
    public void Configuration_files_are_kept_on_upgrade_and_the_readme_is_documentation()
    {
        Requires.Available(installed.Unavailable);
        var flags = PackagingTools.RunOk("rpm", "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", PackagingTools.Rpm)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .ToDictionary(parts => parts[1], parts => parts[0]);

        flags["/etc/node-agent/config.json"].Should().Be("cn", "%config(noreplace): an edited configuration survives an upgrade");
        flags["/etc/sysconfig/node-agent"].Should().Be("cn");
        flags["/usr/share/doc/node-agent/README.md"].Should().Be("d");
        flags["/usr/share/licenses/node-agent/LICENSE"].Should().Be("l", "%license: kept even when documentation is not installed");
        flags.Where(f => f.Value.Contains('c', StringComparison.Ordinal)).Select(f => f.Key)
            .Should().BeEquivalentTo(["/etc/node-agent/config.json", "/etc/sysconfig/node-agent"], "nothing else is configuration");
    }

    [SkippableFact]
    public void Scriptlets_preset_stop_and_restart_the_unit()
    {
        Requires.Available(installed.Unavailable);
        var scripts = PackagingTools.RunOk("rpm", "-qp", "--scripts", PackagingTools.Rpm);
        output.WriteLine(scripts);

        // Here the spec's fallbacks are in use (Debian's rpmbuild has no systemd macros); RHEL's
        // macros do the same through systemctl or systemd-update-helper.
        Section(scripts, "postinstall").Should().Contain("systemctl --no-reload preset node-agent.service node-agent-bootstrap.service").And.Contain("\"$1\" -eq 1");
        Section(scripts, "preuninstall").Should().Contain("systemctl --no-reload disable --now node-agent.service node-agent-bootstrap.service").And.Contain("\"$1\" -eq 0");
        // The bootstrap unit is never run again by an upgrade: its manifests may be older than the cluster.
        Section(scripts, "postuninstall").Should().Contain("systemctl try-restart node-agent.service").And.Contain("\"$1\" -ge 1")
            .And.NotContain("node-agent-bootstrap");
    }

    [SkippableFact]
    public void Requires_only_what_a_rhel_host_has_and_provides_nothing_of_the_bundled_runtime()
    {
        Requires.Available(installed.Unavailable);
        var requires = PackagingTools.RunOk("rpm", "-qp", "--requires", PackagingTools.Rpm).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var provides = PackagingTools.RunOk("rpm", "-qp", "--provides", PackagingTools.Rpm).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        requires.Where(r => !AllowedRequirement().IsMatch(r)).Should().BeEmpty("glibc, libstdc++, libgcc and OpenSSL are on every RHEL host; the runtime's own libraries are in the package");
        requires.Should().Contain("(libssl.so.3()(64bit) or libssl.so.1.1()(64bit))");
        provides.Select(p => p.Split(' ')[0]).Should().BeEquivalentTo(["node-agent", "node-agent(x86-64)", "config(node-agent)"]);
    }

    [SkippableFact]
    public void Spec_default_version_is_the_project_version()
    {
        File.ReadAllLines(PackagingTools.SpecFile).Should().Contain($"%{{!?pkg_version:%global pkg_version {PackagingTools.Version}}}",
            "a plain rpmbuild or rpmlint of the spec sees the same version as make rpm");
        Requires.Available(installed.Unavailable);
        Path.GetFileName(PackagingTools.Rpm).Should().Be($"node-agent-{PackagingTools.Version}-1.x86_64.rpm");
    }

    [SkippableFact]
    public void Installs_the_binary_behind_a_relative_symlink_and_it_runs()
    {
        Requires.Available(installed.Unavailable);
        var link = new FileInfo(installed.File("/usr/bin/node-agent"));
        link.LinkTarget.Should().Be("../lib64/node-agent/node-agent", "relative, so it resolves below any root");
        link.ResolveLinkTarget(returnFinalTarget: true)!.FullName.Should().Be(installed.File(LibDirectory + "/node-agent"));

        var result = NodeAgentProcess.Execute(link.FullName, ["--version"], NodeAgentProcess.AgentEnvironment(null));
        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().StartWith($"node-agent {PackagingTools.Version}");
    }

    [SkippableFact]
    public void Installed_binary_renders_with_the_installed_configuration()
    {
        Requires.Available(installed.Unavailable);
        using var host = new TempRoot();
        var result = NodeAgentProcess.Execute(installed.File("/usr/bin/node-agent"),
            ["--config", installed.File("/etc/node-agent/config.json"), "--once", "--manifests", RepoPaths.Examples, "--root", host.Path, "--reload-command", ""],
            NodeAgentProcess.AgentEnvironment(null));

        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(host.File("etc/containers/registries.conf")).Should().BeTrue();
    }

    [SkippableFact]
    public void Installs_the_unit_configuration_and_directories_it_needs()
    {
        Requires.Available(installed.Unavailable);
        File.ReadAllBytes(installed.File("/usr/lib/systemd/system/node-agent.service")).Should().Equal(File.ReadAllBytes(PackagingTools.UnitFile));
        File.ReadAllBytes(installed.File("/usr/lib/systemd/system/node-agent-bootstrap.service"))
            .Should().Equal(File.ReadAllBytes(Path.Join(RepoPaths.Root, "deploy", "bootstrap", "node-agent-bootstrap.service")));
        Directory.Exists(installed.File("/etc/node-agent/bootstrap-manifests")).Should().BeTrue("the bootstrap unit's condition looks there");
        File.ReadAllBytes(installed.File("/etc/node-agent/config.json")).Should().Equal(File.ReadAllBytes(PackagingTools.ConfigFile));
        // ReadWritePaths= applies only to directories that exist.
        Directory.Exists(installed.File("/etc/containers")).Should().BeTrue();
        Directory.Exists(installed.File("/etc/docker/certs.d")).Should().BeTrue();
        File.Exists(installed.File("/usr/share/doc/node-agent/README.md")).Should().BeTrue();
        File.ReadAllBytes(installed.File("/usr/share/licenses/node-agent/LICENSE")).Should().Equal(File.ReadAllBytes(Path.Join(RepoPaths.Root, "LICENSE")));
    }

    [SkippableFact]
    public void Installed_unit_verifies_against_the_installed_binary()
    {
        Requires.Available(installed.Unavailable);
        PackagingTools.Require("systemd-analyze");
        using var root = new TempRoot("node-agent-rpm-verify");
        // A copy of the installed tree plus the host's units: the fixture's root stays as rpm left it.
        PackagingTools.RunOk("cp", "-a", installed.Root + "/.", root.Path);
        PackagingTools.AddHostSystemdUnits(root.Path);
        // The bootstrap unit's ExecStartPost (coreutils, on every host; the scratch root has only the package).
        PackagingTools.RunOk("cp", "/usr/bin/touch", Path.Join(root.Path, "usr", "bin", "touch"));

        var result = PackagingTools.Run("systemd-analyze", "verify", $"--root={root.Path}", "node-agent.service", "node-agent-bootstrap.service");

        result.ExitCode.Should().Be(0, result.ToString());
        (result.Stdout + result.Stderr).Should().BeEmpty();
    }

    private static string Section(string scripts, string name)
    {
        var start = scripts.IndexOf(name + " scriptlet", StringComparison.Ordinal);
        start.Should().BeGreaterThanOrEqualTo(0, $"the package has a {name} scriptlet");
        var end = scripts.IndexOf(" scriptlet (", start + name.Length + 9, StringComparison.Ordinal);
        return end < 0 ? scripts[start..] : scripts[start..scripts.LastIndexOf('\n', end)];
    }

    [GeneratedRegex(@"^node-agent(\.x86_64|\.spec): [EW]: ")]
    private static partial Regex FindingLine();

    [GeneratedRegex(@"^(/bin/sh|config\(node-agent\) = .*|rpmlib\(.*|rtld\(GNU_HASH\)|ld-linux-x86-64\.so\.2.*|lib(c|m|dl|rt|pthread)\.so\.[0-9]+.*|libstdc\+\+\.so\.6.*|libgcc_s\.so\.1.*|\(libssl\.so\.3\(\)\(64bit\) or libssl\.so\.1\.1\(\)\(64bit\)\))$")]
    private static partial Regex AllowedRequirement();
}
