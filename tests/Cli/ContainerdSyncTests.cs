using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// <c>--runtime</c> through the real binary: the setting from each layer, which files each runtime
/// writes and releases, reloads, the dry run, and the ownership rules every other file follows
/// (an admin's hosts.toml is kept and put back; only what node-agent created is removed).
/// </summary>
public sealed class ContainerdSyncTests : IDisposable
{
    private const string HostsDir = "etc/containerd/certs.d";
    private const string Hosts = HostsDir + "/registry.example.com/hosts.toml";

    private static readonly string MirrorSet = Manifests.Idms("mirrors", """
        - source: registry.example.com
          mirrors:
            - mirror.example.com/registry
        """);

    private readonly TempRoot _work = new("containerd-sync");

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    private string At(string relative) => Path.Join(Root, relative);

    [Theory]
    [InlineData("containerd", true, false)]
    [InlineData("both", true, true)]
    [InlineData("crio", false, true)]
    public void Each_runtime_writes_its_own_files(string runtime, bool containerd, bool crio)
    {
        var result = Sync(Objects(MirrorSet), "--runtime", runtime);

        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(At(Hosts)).Should().Be(containerd);
        File.Exists(At("etc/containers/registries.conf")).Should().Be(crio);
        File.Exists(At("etc/containers/policy.json")).Should().Be(crio);
    }

    [Fact]
    public void The_default_runtime_is_crio_and_writes_no_containerd_file()
    {
        var result = Sync(RepoPaths.Examples);

        result.ExitCode.Should().Be(0, result.ToString());
        Directory.Exists(At("etc/containerd")).Should().BeFalse();
        result.Stderr.Should().NotContain("containerd: ").And.NotContain("hosts.toml");
    }

    [Fact]
    public void The_setting_comes_from_the_config_file_and_the_environment_and_a_bad_value_is_exit_2()
    {
        var config = _work.Write("config.json", """{ "Runtime": "containerd" }""");
        var fromFile = Sync(Objects(MirrorSet), "--config", config);
        fromFile.ExitCode.Should().Be(0, fromFile.ToString());
        File.Exists(At(Hosts)).Should().BeTrue();
        File.Exists(At("etc/containers/registries.conf")).Should().BeFalse();

        var fromEnv = NodeAgentProcess.Run(["--once", "--manifests", Objects(MirrorSet), "--root", Root, "--reload-command", "", "--config", config],
            new Dictionary<string, string> { ["NODEAGENT_Runtime"] = "both" });
        fromEnv.ExitCode.Should().Be(0, fromEnv.ToString());
        File.Exists(At("etc/containers/registries.conf")).Should().BeTrue("the environment wins over the file");

        var bad = new TempRoot("containerd-bad");
        using (bad)
        {
            var result = NodeAgentProcess.Run(["--once", "--manifests", Objects(MirrorSet), "--root", bad.Path, "--runtime", "docker"]);
            result.ExitCode.Should().Be(2, result.ToString());
            result.Stderr.Should().Contain("error: Runtime: \"docker\" must be crio, containerd or both");
            Directory.EnumerateFileSystemEntries(bad.Path).Should().BeEmpty();
        }
    }

    [Fact]
    public void Help_names_the_runtime_option()
    {
        var result = NodeAgentProcess.Run(["--help"]);
        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("--runtime RUNTIME").And.Contain("crio (default), containerd or both");
    }

    [Fact]
    public void Containerd_never_reloads_and_both_reloads_only_for_CRI_O_files()
    {
        var marker = _work.File("reloaded");
        var reload = $"echo reload >> {marker}";

        var containerd = Sync(Objects(MirrorSet), "--runtime", "containerd", "--reload-command", reload);
        containerd.ExitCode.Should().Be(0, containerd.ToString());
        File.Exists(marker).Should().BeFalse("containerd reads hosts.toml on every pull");
        containerd.Stderr.Should().Contain("no runtime reload: containerd reads hosts.toml on every pull");

        var both = Sync(Objects(MirrorSet), "--runtime", "both", "--reload-command", reload);
        both.ExitCode.Should().Be(0, both.ToString());
        File.ReadAllLines(marker).Should().HaveCount(1, "registries.conf was created");

        // A CA for another host changes a CA file and adds a hosts.toml, nothing CRI-O reads.
        var ca = ThrowawayCa.Create("lone CA");
        var withCa = Sync(Objects(MirrorSet, CaImage, CaConfigMap(("lone.example.com", ca.Pem))), "--runtime", "both", "--reload-command", reload);
        withCa.ExitCode.Should().Be(0, withCa.ToString());
        File.Exists(At($"{HostsDir}/lone.example.com/hosts.toml")).Should().BeTrue();
        File.ReadAllLines(marker).Should().HaveCount(1, "hosts.toml and CA files never reload CRI-O");
    }

    [Fact]
    public void An_admins_hosts_toml_is_kept_put_back_and_only_created_directories_are_removed()
    {
        var adminHosts = "server = \"https://registry.example.com\"\n# the admin's own\n";
        Write(Hosts, adminHosts);
        Write($"{HostsDir}/registry.example.com/client.cert", "admin client certificate");
        Write($"{HostsDir}/other.example.com/hosts.toml", "server = \"https://other.example.com\"\n");
        var ca = ThrowawayCa.Create("new CA");

        var first = Sync(Objects(MirrorSet, CaImage, CaConfigMap(("new.example.com", ca.Pem))), "--runtime", "containerd");
        first.ExitCode.Should().Be(0, first.ToString());
        File.ReadAllText(At(Hosts)).Should().Contain("[host.\"https://mirror.example.com/v2/registry\"]", "node-agent takes the file over");
        File.ReadAllText(At($"{HostsDir}/new.example.com/hosts.toml")).Should().Contain("ca = \"/etc/docker/certs.d/new.example.com/ca.crt\"");
        File.GetUnixFileMode(At($"{HostsDir}/new.example.com/hosts.toml")).Should().Be(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var second = Sync(Objects(), "--runtime", "containerd", "--allow-empty");
        second.ExitCode.Should().Be(0, second.ToString());
        File.ReadAllText(At(Hosts)).Should().Be(adminHosts, "the admin's original comes back");
        File.ReadAllText(At($"{HostsDir}/registry.example.com/client.cert")).Should().Be("admin client certificate");
        File.ReadAllText(At($"{HostsDir}/other.example.com/hosts.toml")).Should().Be("server = \"https://other.example.com\"\n", "never touched");
        Directory.Exists(At($"{HostsDir}/new.example.com")).Should().BeFalse("node-agent created it, and it is empty again");
        Directory.Exists(At("etc/docker/certs.d/new.example.com")).Should().BeFalse();
        Directory.Exists(At(HostsDir)).Should().BeTrue("it held the admin's directories before");
    }

    [Fact]
    public void Switching_runtimes_releases_what_the_other_runtime_had()
    {
        var adminRegistries = "unqualified-search-registries = [\"admin.example\"]\n";
        Write("etc/containers/registries.conf", adminRegistries);

        Sync(Objects(MirrorSet), "--runtime", "both").ExitCode.Should().Be(0);
        File.ReadAllText(At("etc/containers/registries.conf")).Should().Contain("mirror.example.com/registry");

        var toContainerd = Sync(Objects(MirrorSet), "--runtime", "containerd", "--reload-command", $"touch {_work.File("reloaded")}");
        toContainerd.ExitCode.Should().Be(0, toContainerd.ToString());
        File.ReadAllText(At("etc/containers/registries.conf")).Should().Be(adminRegistries, "the admin's registries.conf is put back");
        File.Exists(At("etc/containers/policy.json")).Should().BeFalse("node-agent created it");
        File.Exists(At(Hosts)).Should().BeTrue();
        File.Exists(_work.File("reloaded")).Should().BeFalse("a containerd node is never reloaded, not even when CRI-O's files go");

        var toCrio = Sync(Objects(MirrorSet), "--runtime", "crio");
        toCrio.ExitCode.Should().Be(0, toCrio.ToString());
        Directory.Exists(At("etc/containerd")).Should().BeFalse("every directory on the way was node-agent's");
        File.ReadAllText(At("etc/containers/registries.conf")).Should().Contain("mirror.example.com/registry");
    }

    [Fact]
    public void A_dry_run_lists_hosts_toml_files_and_no_reload()
    {
        var result = NodeAgentProcess.Run(["--once", "--dry-run", "--manifests", Objects(MirrorSet), "--root", Root, "--runtime", "containerd", "--log-level", "Warning"]);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain($"--- /dev/null\n+++ b/{Hosts}\n").And.Contain("+[host.\"https://mirror.example.com/v2/registry\"]");
        result.Stderr.Should().Contain($"files: {Hosts} (created)").And.Contain("CRI-O reload: no");
        Directory.Exists(Root).Should().BeFalse("a dry run writes nothing");
    }

    [Fact]
    public void A_port_directory_containerd_reads_first_is_reported()
    {
        Directory.CreateDirectory(At($"{HostsDir}/registry.example.com_5000_"));
        var result = Sync(Objects(Idms("registry.example.com:5000")), "--runtime", "containerd");

        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(At($"{HostsDir}/registry.example.com:5000/hosts.toml")).Should().BeTrue();
        result.Stderr.Should().Contain($"warning: /{HostsDir}/registry.example.com:5000/hosts.toml: shadowed by /{HostsDir}/registry.example.com_5000_: containerd reads that directory first");
    }

    [Fact]
    public void A_host_directory_that_is_a_symbolic_link_is_refused_and_the_others_are_written()
    {
        var elsewhere = _work.File("elsewhere");
        Directory.CreateDirectory(elsewhere);
        Directory.CreateDirectory(At(HostsDir));
        Directory.CreateSymbolicLink(At($"{HostsDir}/registry.example.com"), elsewhere);

        var result = Sync(Objects(MirrorSet, Idms("other.example.com")), "--runtime", "containerd");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().Contain($"warning: /{Hosts}: refused to write it:");
        Directory.EnumerateFileSystemEntries(elsewhere).Should().BeEmpty("nothing is written through the link");
        File.Exists(At($"{HostsDir}/other.example.com/hosts.toml")).Should().BeTrue();
    }

    private static readonly string CaImage = Manifests.ImageWithTrustedCa("user-ca");

    private static string CaConfigMap(params (string Key, string Pem)[] data) => Manifests.CaConfigMap("user-ca", data);

    private static string Idms(string source) => Manifests.Idms("mirrors-" + source.Replace(':', '-'), $"""
        - source: {source}
          mirrors:
            - mirror.example.com/x
        """);

    private string Objects(params string[] documents)
    {
        var dir = _work.File("manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        for (var i = 0; i < documents.Length; i++)
        {
            File.WriteAllText(Path.Join(dir, $"{i}.yaml"), documents[i]);
        }
        return dir;
    }

    private void Write(string relative, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(At(relative))!);
        File.WriteAllText(At(relative), content);
    }

    private ProcessResult Sync(string manifests, params string[] extra)
    {
        var args = new List<string> { "--once", "--manifests", manifests, "--root", Root };
        if (!extra.Contains("--reload-command"))
        {
            args.AddRange(["--reload-command", ""]);
        }
        return NodeAgentProcess.Run([.. args, .. extra]);
    }
}
