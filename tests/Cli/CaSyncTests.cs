using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cli;

/// <summary>
/// CA trust sync (certs.md) through the real binary with <c>--once --manifests</c>: what lands in
/// certs.d, what is reported, and that an admin's own files and directories are never touched.
/// </summary>
public sealed partial class CaSyncTests : IDisposable
{
    private const string Certs = "etc/docker/certs.d";
    private const string ContainersCerts = "etc/containers/certs.d";
    private const string BothTargets = "/etc/docker/certs.d,/etc/containers/certs.d";

    private static readonly ThrowawayCa CaA = ThrowawayCa.Create("CA A");
    private static readonly ThrowawayCa CaB = ThrowawayCa.Create("CA B");
    private static readonly ThrowawayCa CaC = ThrowawayCa.Create("CA C");

    private readonly TempRoot _work = new("ca-sync");

    public void Dispose() => _work.Dispose();

    private string Root => _work.File("root");

    private string At(string relative) => Path.Join(Root, relative);

    // ---- the "new user" scenario ---------------------------------------------------------------

    [Fact]
    public void New_user_good_bad_and_admin_keys_through_add_change_and_remove()
    {
        var admin = PlantAdminDirectory("admin.example:5000");
        var expired = ThrowawayCa.Expired("expired CA", TimeSpan.FromDays(2));
        var expiring = ThrowawayCa.Create("expiring CA", TimeSpan.FromDays(10));
        var before = Snapshot(Certs);

        // 1. First sync: a good key, a bad value, a hostile key, a key for the admin's directory,
        //    a DER value in binaryData, and certificates past or near their end.
        var manifests = Write(
            data: [
                ("good.example..5000", CaA.UntidyPem() + CaA.PrivateKeyPem),
                ("bad.example..443", "-----BEGIN CERTIFICATE-----\nMIIB this was cut off while pasting"),
                ("../../../etc/cron.d", CaA.Pem),
                ("admin.example..5000", CaB.Pem),
                ("old.example", expired.Pem + expiring.Pem),
            ],
            binaryData: [("der.example..8443", CaC.Der)]);
        var first = Sync(manifests);

        first.ExitCode.Should().Be(0, first.ToString());
        first.Stdout.Should().BeEmpty();
        ReadCa("good.example:5000").Should().Be(CaA.Pem, "only the certificate, normalised, no key");
        ReadCa("admin.example:5000").Should().Be(CaB.Pem);
        ReadCa("der.example:8443").Should().Be(CaC.Pem, "binaryData DER is written as PEM");
        ReadCa("old.example").Should().Be(ThrowawayCa.Normalised(expired, expiring), "expired certificates are still written");
        Directory.Exists(At($"{Certs}/bad.example:443")).Should().BeFalse("a value without a certificate creates nothing");
        AdminFilesUnchanged(admin);
        Warnings(first).Should().HaveCount(4, first.ToString());
        Warnings(first).Should().Contain(l => l.StartsWith("warning: ConfigMap/openshift-config/user-ca: data[\"bad.example..443\"]: skipped: no X.509 certificate", StringComparison.Ordinal));
        Warnings(first).Should().Contain(l => l.StartsWith("warning: ConfigMap/openshift-config/user-ca: data[\"../../../etc/cron.d\"]: skipped: the key is not a registry host", StringComparison.Ordinal));
        Warnings(first).Should().Contain(l => l.Contains("data[\"old.example\"]", StringComparison.Ordinal) && l.Contains("\"CN=expired CA\"", StringComparison.Ordinal) && l.Contains("expired on " + Date(expired), StringComparison.Ordinal));
        Warnings(first).Should().Contain(l => l.Contains("data[\"old.example\"]", StringComparison.Ordinal) && l.Contains("\"CN=expiring CA\"", StringComparison.Ordinal) && l.Contains("expires on " + Date(expiring), StringComparison.Ordinal));
        Directory.Exists(At("etc/cron.d")).Should().BeFalse("a hostile key never becomes a path");
        CertsEntries().Should().BeEquivalentTo(before.Keys.Concat([
            "good.example:5000", "good.example:5000/ca.crt", "admin.example:5000/ca.crt", "der.example:8443", "der.example:8443/ca.crt",
            "old.example", "old.example/ca.crt"]));
        AssertModes(["good.example:5000", "der.example:8443", "old.example"], ["good.example:5000", "admin.example:5000", "der.example:8443", "old.example"]);
        AssertNoTempFiles();

        // 2. The same input again changes nothing: not a byte, not a modification time.
        var snapshot = DirectorySnapshot.Of(Root);
        var times = WriteTimes();
        var second = Sync(manifests);
        second.ExitCode.Should().Be(0, second.ToString());
        second.Stderr.Should().Contain("nothing written");
        DirectorySnapshot.Of(Root).Should().Equal(snapshot);
        WriteTimes().Should().Equal(times);

        // 3. A new certificate for the admin's registry.
        var changed = Sync(Write(data: [("good.example..5000", CaA.Pem), ("admin.example..5000", CaC.Pem + CaB.Pem)]));
        changed.ExitCode.Should().Be(0, changed.ToString());
        ReadCa("admin.example:5000").Should().Be(ThrowawayCa.Normalised(CaC, CaB));
        AdminFilesUnchanged(admin);
        Directory.Exists(At($"{Certs}/der.example:8443")).Should().BeFalse("its key went away and node-agent created the directory");
        Directory.Exists(At($"{Certs}/old.example")).Should().BeFalse();

        // 4. Both keys removed: only node-agent's ca.crt goes; the admin's directory stays.
        var removed = Sync(Write(data: []));
        removed.ExitCode.Should().Be(0, removed.ToString());
        File.Exists(At($"{Certs}/admin.example:5000/ca.crt")).Should().BeFalse();
        AdminFilesUnchanged(admin);
        Directory.Exists(At($"{Certs}/good.example:5000")).Should().BeFalse("node-agent created it and it is empty");
        Snapshot(Certs).Should().Equal(before, "certs.d is back to exactly what the admin had");

        // 5. Another add/remove cycle leaves the admin's files alone as well.
        Sync(Write(data: [("admin.example..5000", CaA.Pem)])).ExitCode.Should().Be(0);
        ReadCa("admin.example:5000").Should().Be(CaA.Pem);
        Sync(Write(data: [])).ExitCode.Should().Be(0);
        Snapshot(Certs).Should().Equal(before);
        AssertNoTempFiles();
    }

    [Fact]
    public void A_foreign_ca_crt_is_taken_over_and_restored_byte_for_byte_when_the_key_goes()
    {
        var foreign = Encoding.UTF8.GetBytes("# the admin's own CA, with CRLF\r\n").Concat(CaC.Der).Concat(new byte[] { 0, 0xFF, 0x0A }).ToArray();
        Directory.CreateDirectory(At($"{Certs}/reg.example"));
        File.WriteAllBytes(At($"{Certs}/reg.example/ca.crt"), foreign);
        File.WriteAllText(At($"{Certs}/reg.example/client.cert"), "client cert\n");
        File.WriteAllText(At($"{Certs}/reg.example/client.key"), "client key\n");
        var before = Snapshot(Certs);

        var taken = Sync(Write(data: [("reg.example", CaA.Pem)]));
        taken.ExitCode.Should().Be(0, taken.ToString());
        ReadCa("reg.example").Should().Be(CaA.Pem);
        File.ReadAllBytes(At($"var/lib/node-agent/originals/{Certs}/reg.example/ca.crt")).Should().Equal(foreign, "the original is kept in the state directory");

        Sync(Write(data: [("reg.example", CaB.Pem)])).ExitCode.Should().Be(0);
        ReadCa("reg.example").Should().Be(CaB.Pem);
        var again = Sync(Write(data: [("reg.example", CaB.Pem)]));
        again.Stderr.Should().Contain("nothing written");

        var released = Sync(Write(data: []));
        released.ExitCode.Should().Be(0, released.ToString());
        File.ReadAllBytes(At($"{Certs}/reg.example/ca.crt")).Should().Equal(foreign, "the admin's file comes back exactly");
        Snapshot(Certs).Should().Equal(before);
        Directory.EnumerateFileSystemEntries(At("var/lib/node-agent/originals"), "*", SearchOption.AllDirectories)
            .Where(File.Exists).Should().BeEmpty("the kept copy is dropped once restored");

        // Taken over and released again: the same original, still byte for byte.
        Sync(Write(data: [("reg.example", CaA.Pem)])).ExitCode.Should().Be(0);
        Sync(Write(data: [])).ExitCode.Should().Be(0);
        File.ReadAllBytes(At($"{Certs}/reg.example/ca.crt")).Should().Equal(foreign);
        AssertNoTempFiles();
    }

    [Fact]
    public void A_bad_value_for_a_key_with_a_good_file_keeps_the_old_file()
    {
        Sync(Write(data: [("reg.example..5000", CaA.Pem), ("other.example", CaB.Pem)])).ExitCode.Should().Be(0);
        var time = File.GetLastWriteTimeUtc(At($"{Certs}/reg.example:5000/ca.crt"));

        foreach (var (what, bad) in new[]
        {
            ("truncated PEM", CaC.Pem[..(CaC.Pem.Length / 2)]),
            ("a private key", CaC.PrivateKeyPem),
            ("garbage", "not a certificate at all"),
            ("an empty value", ""),
        })
        {
            var result = Sync(Write(data: [("reg.example..5000", bad), ("other.example", CaC.Pem)]));
            result.ExitCode.Should().Be(0, result.ToString());
            ReadCa("reg.example:5000").Should().Be(CaA.Pem, $"{what} must not replace or remove the good file");
            File.GetLastWriteTimeUtc(At($"{Certs}/reg.example:5000/ca.crt")).Should().Be(time, what);
            ReadCa("other.example").Should().Be(CaC.Pem, $"the other key still syncs next to {what}");
            Warnings(result).Should().ContainSingle(what).Which.Should()
                .StartWith("warning: ConfigMap/openshift-config/user-ca: data[\"reg.example..5000\"]: skipped: no X.509 certificate")
                .And.Contain("the previous ca.crt for reg.example:5000, if any, stays");
        }

        // Fixed again: written again.
        Sync(Write(data: [("reg.example..5000", CaC.Pem)])).ExitCode.Should().Be(0);
        ReadCa("reg.example:5000").Should().Be(CaC.Pem);
        AssertNoTempFiles();
    }

    [Fact]
    public void A_bad_user_value_in_a_shared_bundle_keeps_the_old_bundle()
    {
        const string key = "image-registry.openshift-image-registry.svc..5000";
        const string directory = "image-registry.openshift-image-registry.svc:5000";
        var good = Write(data: [(key, CaA.Pem)], managed: [(key, CaB.Pem)]);
        Sync(good).ExitCode.Should().Be(0);
        ReadCa(directory).Should().Be(ThrowawayCa.Normalised(CaA, CaB), "one bundle, the user's certificates first");

        var result = Sync(Write(data: [(key, "garbage pasted over the CA")], managed: [(key, CaB.Pem)]));
        result.ExitCode.Should().Be(0, result.ToString());
        Warnings(result).Should().ContainSingle().Which.Should().Contain("no X.509 certificate");
        ReadCa(directory).Should().Be(ThrowawayCa.Normalised(CaA, CaB),
            "certs.md: a bad value is rejected for that key and the previously written good ca.crt stays; " +
            "dropping the user's CA here breaks pulls that trusted it");
    }

    [Fact]
    public void The_managed_config_map_adds_to_the_user_bundle_and_can_be_turned_off()
    {
        const string key = "image-registry.openshift-image-registry.svc..5000";
        const string directory = "image-registry.openshift-image-registry.svc:5000";
        var manifests = Write(data: [(key, CaA.Pem), ("reg.example", CaC.Pem)], managed: [(key, CaB.Pem + CaA.Pem)]);
        Sync(manifests).ExitCode.Should().Be(0);
        ReadCa(directory).Should().Be(ThrowawayCa.Normalised(CaA, CaB));

        var off = Sync(manifests, environment: new Dictionary<string, string> { ["NODEAGENT_ManagedCaConfigMap"] = "" });
        off.ExitCode.Should().Be(0, off.ToString());
        ReadCa(directory).Should().Be(CaA.Pem, "with the managed ConfigMap off only the user's CA is left");
    }

    [Fact]
    public void The_ca_namespace_setting_picks_the_config_map()
    {
        var manifests = WriteManifests(
            ImageWithCa("user-ca"),
            ConfigMap("openshift-config", "user-ca", [("default.example", CaA.Pem)]),
            ConfigMap("my-config", "user-ca", [("custom.example", CaB.Pem)]));
        var result = Sync(manifests, environment: new Dictionary<string, string> { ["NODEAGENT_CaNamespace"] = "my-config" });
        result.ExitCode.Should().Be(0, result.ToString());
        CertsEntries().Should().BeEquivalentTo(["custom.example", "custom.example/ca.crt"]);
    }

    [Fact]
    public void A_missing_additional_trusted_ca_config_map_is_a_warning()
    {
        var result = Sync(WriteManifests(ImageWithCa("no-such-ca")));
        result.ExitCode.Should().Be(0, result.ToString());
        Warnings(result).Should().Equal(
            "warning: Image/cluster: spec.additionalTrustedCA.name: the ConfigMap openshift-config/no-such-ca does not exist; no CAs from it");
        Directory.Exists(At(Certs)).Should().BeFalse();
    }

    // ---- symbolic links ------------------------------------------------------------------------

    public static TheoryData<string, bool> LinkPlaces => new()
    {
        { "etc/docker", true },
        { "etc/docker", false },
        { Certs, true },
        { Certs, false },
        { $"{Certs}/victim.example", true },
        { $"{Certs}/victim.example", false },
        { $"{Certs}/victim.example/ca.crt", true },
        { $"{Certs}/victim.example/ca.crt", false },
    };

    [Theory]
    [MemberData(nameof(LinkPlaces))]
    public void A_planted_symlink_refuses_the_key_and_nothing_is_written_through_it(string place, bool absolute)
    {
        // Where the link points: a directory outside the root, or one inside it (relative link).
        var outside = _work.File("outside");
        var inside = At("srv/elsewhere");
        var destination = absolute ? outside : inside;
        Directory.CreateDirectory(destination);
        var isFile = place.EndsWith("/ca.crt", StringComparison.Ordinal);
        var linkTarget = isFile ? Path.Join(destination, "victim-ca.crt") : Path.Join(destination, Path.GetFileName(place));
        if (isFile)
        {
            File.WriteAllText(linkTarget, "not node-agent's\n");
        }
        else
        {
            Directory.CreateDirectory(Path.Join(linkTarget, "certs.d"));
            File.WriteAllText(Path.Join(linkTarget, "keep.txt"), "not node-agent's\n");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(At(place))!);
        var pointer = absolute ? linkTarget : Path.GetRelativePath(Path.GetDirectoryName(At(place))!, linkTarget);
        File.CreateSymbolicLink(At(place), pointer);
        var outsideBefore = DirectorySnapshot.Of(outside);
        var insideBefore = DirectorySnapshot.Of(inside);

        var manifests = Write(data: [("victim.example", CaA.Pem), ("other.example..5000", CaB.Pem)]);
        var result = Sync(manifests);

        result.ExitCode.Should().Be(0, result.ToString());
        DirectorySnapshot.Of(outside).Should().Equal(outsideBefore, "nothing is written through the link");
        DirectorySnapshot.Of(inside).Should().Equal(insideBefore, "nothing is written through the link");
        new FileInfo(At(place)).LinkTarget.Should().Be(pointer, "the link itself is left alone");
        Warnings(result).Should().Contain(l => l.Contains("user-ca victim.example", StringComparison.Ordinal)
            && l.Contains("refused to write /etc/docker/certs.d/victim.example/ca.crt", StringComparison.Ordinal)
            && l.Contains("symbolic link", StringComparison.Ordinal), result.ToString());
        var wholeTarget = !place.Contains("victim", StringComparison.Ordinal);
        if (wholeTarget)
        {
            Warnings(result).Should().Contain(l => l.Contains("refused to write /etc/docker/certs.d/other.example:5000/ca.crt", StringComparison.Ordinal));
        }
        else
        {
            ReadCa("other.example:5000").Should().Be(CaB.Pem, "the other key still syncs");
        }
        File.Exists(At("etc/containers/registries.conf")).Should().BeTrue("the rest of the sync goes on");
        File.ReadAllText(At("var/lib/node-agent/state.json")).Should().NotContain("victim.example");
        AssertNoTempFiles();

        // And again: still refused, still nothing through the link.
        var second = Sync(manifests);
        second.ExitCode.Should().Be(0, second.ToString());
        DirectorySnapshot.Of(outside).Should().Equal(outsideBefore);
        DirectorySnapshot.Of(inside).Should().Equal(insideBefore);
    }

    [Fact]
    public void A_symlink_planted_over_a_managed_directory_is_not_followed_on_change()
    {
        Sync(Write(data: [("victim.example", CaA.Pem), ("other.example", CaA.Pem)])).ExitCode.Should().Be(0);
        var outside = PlantLinkOverHostDirectory("victim.example");
        var outsideBefore = DirectorySnapshot.Of(outside);

        var result = Sync(Write(data: [("victim.example", CaB.Pem), ("other.example", CaB.Pem)]));

        result.ExitCode.Should().Be(0, result.ToString());
        DirectorySnapshot.Of(outside).Should().Equal(outsideBefore);
        ReadCa("other.example").Should().Be(CaB.Pem);
        Warnings(result).Should().Contain(l => l.Contains("refused to write /etc/docker/certs.d/victim.example/ca.crt", StringComparison.Ordinal));
    }

    [Fact]
    public void A_symlink_planted_over_a_managed_directory_is_not_followed_when_the_key_goes()
    {
        Sync(Write(data: [("victim.example", CaA.Pem), ("other.example", CaA.Pem)])).ExitCode.Should().Be(0);
        var outside = PlantLinkOverHostDirectory("victim.example");
        var outsideBefore = DirectorySnapshot.Of(outside);

        var result = Sync(Write(data: [("other.example", CaB.Pem)]));

        DirectorySnapshot.Of(outside).Should().Equal(outsideBefore, "the ca.crt behind the link is not node-agent's to remove");
        result.ExitCode.Should().Be(0, $"certs.md: a symlinked path refuses that key with a warning; other keys still sync\n{result}");
        ReadCa("other.example").Should().Be(CaB.Pem);
        Warnings(result).Should().Contain(l => l.Contains("victim.example", StringComparison.Ordinal) && l.Contains("symbolic link", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a file where the registry directory belongs", "etc/docker/certs.d/blocked.example", false)]
    [InlineData("a directory where ca.crt belongs", "etc/docker/certs.d/blocked.example/ca.crt", true)]
    public void Something_in_the_way_of_one_key_refuses_only_that_key(string what, string place, bool directory)
    {
        if (directory)
        {
            Directory.CreateDirectory(At(place));
            File.WriteAllText(At($"{place}/admin.txt"), "the admin's\n");
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(At(place))!);
            File.WriteAllText(At(place), "the admin's\n");
        }
        var before = DirectorySnapshot.Of(At(Certs));

        var result = Sync(Write(data: [("a.example", CaA.Pem), ("blocked.example", CaB.Pem), ("z.example", CaC.Pem)]));

        DirectorySnapshot.Of(At(Certs)).Where(e => e.Key.StartsWith("blocked.example", StringComparison.Ordinal))
            .Should().Equal(before, $"{what} is left exactly as it was");
        result.ExitCode.Should().Be(0, $"{what} concerns one key; the others and registries.conf still sync\n{result}");
        ReadCa("a.example").Should().Be(CaA.Pem);
        ReadCa("z.example").Should().Be(CaC.Pem);
        File.Exists(At("etc/containers/registries.conf")).Should().BeTrue();
        Warnings(result).Should().Contain(l => l.Contains("blocked.example", StringComparison.Ordinal), what);
        File.ReadAllText(At("var/lib/node-agent/state.json")).Should().NotContain("blocked.example", "nothing of it is node-agent's");
    }

    // ---- targets and shadowing -----------------------------------------------------------------

    [Fact]
    public void An_existing_containers_certs_d_directory_is_reported_as_shadowing()
    {
        Directory.CreateDirectory(At($"{ContainersCerts}/reg.example:5000"));
        var result = Sync(Write(data: [("reg.example..5000", CaA.Pem), ("free.example", CaB.Pem)]));

        result.ExitCode.Should().Be(0, result.ToString());
        ReadCa("reg.example:5000").Should().Be(CaA.Pem, "it is still written");
        Warnings(result).Should().ContainSingle().Which.Should()
            .Contain("CA for reg.example:5000 is shadowed by /etc/containers/certs.d/reg.example:5000");
        Directory.EnumerateFileSystemEntries(At($"{ContainersCerts}/reg.example:5000")).Should().BeEmpty("the shadowing directory is not ours to touch");
    }

    [Theory]
    [InlineData(BothTargets)]
    [InlineData("[\"/etc/docker/certs.d\", \"/etc/containers/certs.d/\"]")]
    public void Both_targets_get_identical_files_and_no_shadow_warning(string targets)
    {
        Directory.CreateDirectory(At($"{ContainersCerts}/reg.example:5000"));
        File.WriteAllText(At($"{ContainersCerts}/reg.example:5000/client.cert"), "admin client cert\n");
        var environment = new Dictionary<string, string> { ["NODEAGENT_CertsTargets"] = targets };

        var result = Sync(Write(data: [("reg.example..5000", CaA.Pem), ("other.example", CaB.Pem)]), environment: environment);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().NotContain("shadowed");
        foreach (var target in new[] { Certs, ContainersCerts })
        {
            File.ReadAllText(At($"{target}/reg.example:5000/ca.crt")).Should().Be(CaA.Pem, target);
            File.ReadAllText(At($"{target}/other.example/ca.crt")).Should().Be(CaB.Pem, target);
        }
        File.ReadAllText(At($"{ContainersCerts}/reg.example:5000/client.cert")).Should().Be("admin client cert\n");

        var removed = Sync(Write(data: []), environment: environment);
        removed.ExitCode.Should().Be(0, removed.ToString());
        Directory.Exists(At($"{Certs}/reg.example:5000")).Should().BeFalse();
        Directory.Exists(At($"{ContainersCerts}/other.example")).Should().BeFalse();
        DirectorySnapshot.Of(At($"{ContainersCerts}/reg.example:5000")).Keys.Should().Equal("client.cert");
        AssertNoTempFiles();
    }

    [Fact]
    public void Dropping_a_target_does_not_leave_a_stale_copy_that_shadows_the_current_ca()
    {
        var both = new Dictionary<string, string> { ["NODEAGENT_CertsTargets"] = BothTargets };
        Sync(Write(data: [("reg.example", CaA.Pem)]), environment: both).ExitCode.Should().Be(0);

        var result = Sync(Write(data: [("reg.example", CaB.Pem)]));

        result.ExitCode.Should().Be(0, result.ToString());
        ReadCa("reg.example").Should().Be(CaB.Pem);
        var stale = At($"{ContainersCerts}/reg.example/ca.crt");
        (File.Exists(stale) ? File.ReadAllText(stale) : CaB.Pem).Should().Be(CaB.Pem,
            "containers/image reads /etc/containers/certs.d/reg.example first; a CA node-agent left there must not be stale");
    }

    // ---- reload, dry run, files ----------------------------------------------------------------

    [Fact]
    public void A_ca_only_change_never_runs_the_reload_command()
    {
        Sync(Write(data: [("reg.example", CaA.Pem)])).ExitCode.Should().Be(0);
        var marker = _work.File("reloads");
        var reload = $"echo x >> {marker}";

        foreach (var (what, manifests) in new[]
        {
            ("changed", Write(data: [("reg.example", CaB.Pem)])),
            ("added", Write(data: [("reg.example", CaB.Pem), ("new.example..5000", CaC.Pem)])),
            ("removed", Write(data: [("new.example..5000", CaC.Pem)])),
        })
        {
            var result = Sync(manifests, reload);
            result.ExitCode.Should().Be(0, result.ToString());
            File.Exists(marker).Should().BeFalse($"a CA {what} needs no runtime reload\n{result}");
        }
        ReadCa("new.example:5000").Should().Be(CaC.Pem);
        File.Exists(At($"{Certs}/reg.example/ca.crt")).Should().BeFalse();

        // A registries change with the same command does reload: the marker is a working probe.
        Sync(WriteManifests(ImageWithCa("user-ca", ["lab.example:5000"]), ConfigMap("openshift-config", "user-ca", [("new.example..5000", CaC.Pem)])), reload)
            .ExitCode.Should().Be(0);
        File.ReadAllLines(marker).Should().Equal("x");
    }

    [Fact]
    public void Dry_run_shows_ca_diffs_and_writes_nothing()
    {
        var admin = PlantAdminDirectory("admin.example");
        File.WriteAllText(At($"{Certs}/admin.example/ca.crt"), "admin's ca.crt\n");
        var before = DirectorySnapshot.Of(Root);

        var fresh = Sync(Write(data: [("reg.example..5000", CaA.Pem), ("admin.example", CaB.Pem)]), extra: ["--dry-run"]);
        fresh.ExitCode.Should().Be(0, fresh.ToString());
        fresh.Stdout.Should().Contain($"--- /dev/null\n+++ b/{Certs}/reg.example:5000/ca.crt\n")
            .And.Contain($"--- a/{Certs}/admin.example/ca.crt\n+++ b/{Certs}/admin.example/ca.crt\n")
            .And.Contain("-admin's ca.crt\n")
            .And.Contain("+-----BEGIN CERTIFICATE-----\n")
            .And.Contain("+" + CaA.Base64Der[..64] + "\n");
        DirectorySnapshot.Of(Root).Should().Equal(before, "a dry run writes nothing, not even state");

        Sync(Write(data: [("reg.example..5000", CaA.Pem), ("admin.example", CaB.Pem)])).ExitCode.Should().Be(0);
        var applied = DirectorySnapshot.Of(Root);

        var change = Sync(Write(data: [("reg.example..5000", CaC.Pem)]), extra: ["--dry-run"]);
        change.ExitCode.Should().Be(0, change.ToString());
        change.Stdout.Should().Contain($"--- a/{Certs}/reg.example:5000/ca.crt\n+++ b/{Certs}/reg.example:5000/ca.crt\n")
            .And.Contain("-" + CaA.Base64Der[..64] + "\n")
            .And.Contain("+" + CaC.Base64Der[..64] + "\n")
            .And.Contain($"--- a/{Certs}/admin.example/ca.crt\n+++ b/{Certs}/admin.example/ca.crt\n", "the release puts the admin's file back")
            .And.Contain("+admin's ca.crt\n");
        DirectorySnapshot.Of(Root).Should().Equal(applied);

        var gone = Sync(Write(data: []), extra: ["--dry-run"]);
        gone.Stdout.Should().Contain($"--- a/{Certs}/reg.example:5000/ca.crt\n+++ /dev/null\n");
        DirectorySnapshot.Of(Root).Should().Equal(applied);
        AdminFilesUnchanged(admin);
    }

    [Fact]
    public void Files_are_0644_and_created_directories_0755_even_under_a_strict_umask()
    {
        var result = NodeAgentProcess.Execute("/bin/sh",
            ["-c", "umask 077 && exec \"$0\" \"$@\"", RepoPaths.Binary, "--once", "--manifests", Write(data: [("reg.example..5000", CaA.Pem)]), "--root", Root, "--reload-command", ""],
            CleanEnvironment());
        result.ExitCode.Should().Be(0, result.ToString());
        AssertModes(["reg.example:5000"], ["reg.example:5000"]);
        File.GetUnixFileMode(At("etc/docker")).Should().Be(Mode0755, "etc/docker was created by node-agent");
        File.GetUnixFileMode(At(Certs)).Should().Be(Mode0755, "certs.d was created by node-agent");
    }

    [Fact]
    public void Stale_temp_files_of_a_killed_run_are_cleaned_and_none_are_left()
    {
        Directory.CreateDirectory(At($"{Certs}/reg.example"));
        var stale = At($"{Certs}/reg.example/.ca.crt.node-agent-0123456789abcdef0123456789abcdef.tmp");
        File.WriteAllText(stale, "half a certif");
        var result = Sync(Write(data: [("reg.example", CaA.Pem)]));
        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(stale).Should().BeFalse();
        ReadCa("reg.example").Should().Be(CaA.Pem);
        AssertNoTempFiles();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static readonly UnixFileMode Mode0755 = (UnixFileMode)Convert.ToInt32("755", 8);
    private static readonly UnixFileMode Mode0644 = (UnixFileMode)Convert.ToInt32("644", 8);

    private ProcessResult Sync(string manifests, string reload = "", IDictionary<string, string>? environment = null, string[]? extra = null) =>
        NodeAgentProcess.Run(["--once", "--manifests", manifests, "--root", Root, "--reload-command", reload, .. extra ?? []], environment);

    private string Write((string Key, string Value)[] data, (string Key, byte[] Value)[]? binaryData = null, (string Key, string Value)[]? managed = null)
    {
        var objects = new List<JsonObject> { ImageWithCa("user-ca"), ConfigMap("openshift-config", "user-ca", data, binaryData) };
        if (managed is not null)
        {
            objects.Add(ConfigMap("openshift-config-managed", "image-registry-ca", managed));
        }
        return WriteManifests([.. objects]);
    }

    private string WriteManifests(params JsonObject[] objects)
    {
        var directory = _work.File("manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        for (var i = 0; i < objects.Length; i++)
        {
            File.WriteAllText(Path.Join(directory, $"{i:D2}.json"), objects[i].ToJsonString());
        }
        return directory;
    }

    private static JsonObject ImageWithCa(string name, string[]? insecureRegistries = null)
    {
        var spec = new JsonObject { ["additionalTrustedCA"] = new JsonObject { ["name"] = name } };
        if (insecureRegistries is not null)
        {
            spec["registrySources"] = new JsonObject { ["insecureRegistries"] = new JsonArray([.. insecureRegistries.Select(r => (JsonNode?)JsonValue.Create(r))]) };
        }
        return new JsonObject
        {
            ["apiVersion"] = "config.openshift.io/v1",
            ["kind"] = "Image",
            ["metadata"] = new JsonObject { ["name"] = "cluster" },
            ["spec"] = spec,
        };
    }

    private static JsonObject ConfigMap(string ns, string name, (string Key, string Value)[] data, (string Key, byte[] Value)[]? binaryData = null)
    {
        var map = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["data"] = new JsonObject(data.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)JsonValue.Create(d.Value)))),
        };
        if (binaryData is not null)
        {
            map["binaryData"] = new JsonObject(binaryData.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)JsonValue.Create(Convert.ToBase64String(d.Value)))));
        }
        return map;
    }

    private static Dictionary<string, string?> CleanEnvironment() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("NODEAGENT_", StringComparison.OrdinalIgnoreCase) || k == "JOURNAL_STREAM")
            .ToDictionary(k => k, _ => (string?)null);

    private sealed record AdminFiles(string Directory, Dictionary<string, byte[]> Files);

    private AdminFiles PlantAdminDirectory(string host)
    {
        var directory = At($"{Certs}/{host}");
        Directory.CreateDirectory(directory);
        var files = new Dictionary<string, byte[]>
        {
            ["client.cert"] = Encoding.ASCII.GetBytes("-----BEGIN CERTIFICATE-----\nadmin's client certificate\n-----END CERTIFICATE-----\n"),
            ["client.key"] = Encoding.ASCII.GetBytes("-----BEGIN PRIVATE KEY-----\nadmin's client key\n-----END PRIVATE KEY-----\n"),
            ["my-root.crt"] = Encoding.ASCII.GetBytes(CaC.Pem),
        };
        foreach (var (name, bytes) in files)
        {
            File.WriteAllBytes(Path.Join(directory, name), bytes);
        }
        return new AdminFiles(directory, files);
    }

    private static void AdminFilesUnchanged(AdminFiles admin)
    {
        Directory.Exists(admin.Directory).Should().BeTrue($"{admin.Directory} is the admin's directory");
        foreach (var (name, bytes) in admin.Files)
        {
            File.ReadAllBytes(Path.Join(admin.Directory, name)).Should().Equal(bytes, $"{name} is the admin's file");
        }
    }

    // Replaces node-agent's own host directory with a link to a directory outside the root that
    // holds a ca.crt someone else owns.
    private string PlantLinkOverHostDirectory(string host)
    {
        var outside = _work.File("outside-" + host);
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Join(outside, "ca.crt"), "someone else's ca.crt\n");
        Directory.Delete(At($"{Certs}/{host}"), recursive: true);
        File.CreateSymbolicLink(At($"{Certs}/{host}"), outside);
        return outside;
    }

    private string ReadCa(string directory) => File.ReadAllText(At($"{Certs}/{directory}/ca.crt"));

    private SortedDictionary<string, string> Snapshot(string relative) => DirectorySnapshot.Of(At(relative));

    private List<string> CertsEntries() => [.. Snapshot(Certs).Keys];

    private Dictionary<string, DateTime> WriteTimes() =>
        Directory.EnumerateFileSystemEntries(Root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .ToDictionary(f => f, f => File.GetLastWriteTimeUtc(f));

    // Without the "file:line: " the warnings carry in front of the object they name: the manifests
    // here are generated one object per file, so the object says it all.
    private static string[] Warnings(ProcessResult result) =>
        result.StderrLines.Where(l => l.StartsWith("warning: ", StringComparison.Ordinal))
            .Select(l => ManifestPlace().Replace(l, "warning: ", 1)).ToArray();

    [System.Text.RegularExpressions.GeneratedRegex("^warning: /[^ ]+:[0-9]+: ", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ManifestPlace();

    private void AssertModes(string[] createdDirectories, string[] caDirectories)
    {
        foreach (var directory in createdDirectories)
        {
            File.GetUnixFileMode(At($"{Certs}/{directory}")).Should().Be(Mode0755, directory);
        }
        foreach (var directory in caDirectories)
        {
            File.GetUnixFileMode(At($"{Certs}/{directory}/ca.crt")).Should().Be(Mode0644, directory);
        }
    }

    private void AssertNoTempFiles()
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
        Directory.EnumerateFiles(Root, "*", options)
            .Where(f => Path.GetFileName(f).Contains(".node-agent-", StringComparison.Ordinal) || f.EndsWith(".tmp", StringComparison.Ordinal))
            .Should().BeEmpty("every write is a rename of a temp file that is never left behind");
    }

    private static string Date(ThrowawayCa certificate) =>
        certificate.NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
