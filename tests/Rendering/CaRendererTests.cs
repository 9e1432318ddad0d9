using System.Globalization;
using System.Text;
using FluentAssertions;
using NodeAgent.Rendering;
using NodeAgent.Resources;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// certs.md "Sources" and "Values" as a pure function: which ConfigMaps are read, how each value
/// is parsed, what is written for it, and what is reported.
/// </summary>
public sealed class CaRendererTests
{
    private const string UserCa = "user-ca";
    private const string ManagedKey = "image-registry.openshift-image-registry.svc..5000";
    private const string ManagedDirectory = "image-registry.openshift-image-registry.svc:5000";

    private static readonly ThrowawayCa First = ThrowawayCa.Create("first test CA");
    private static readonly ThrowawayCa Second = ThrowawayCa.Create("second test CA");
    private static readonly ThrowawayCa Third = ThrowawayCa.Create("third test CA");
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void Pem_with_junk_and_private_keys_between_certificates_keeps_only_the_certificates_normalised_and_once()
    {
        var value = "# CA bundle for reg.example, pasted from a wiki\n" +
            First.UntidyPem() +
            First.PrivateKeyPem + "\n" +
            "Bag Attributes\n    friendlyName: second\nsubject=/CN=second test CA\n" +
            Second.Pem +
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIN0tAk3yAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n" +
            First.Pem +                         // a duplicate, byte-identical after parsing
            "trailing text without a newline";

        var result = Render(User(("reg.example..5000", value)));

        result.Problems.Should().BeEmpty();
        var bundle = result.Bundles.Should().ContainSingle().Subject;
        bundle.Directory.Should().Be("reg.example:5000");
        Encoding.ASCII.GetString(bundle.Pem).Should().Be(ThrowawayCa.Normalised(First, Second),
            "certificates only, in order, LF line ends, 64-character lines, no duplicate");
        bundle.Certificates.Select(c => c.Subject).Should().Equal(First.Subject, Second.Subject);
        Encoding.ASCII.GetString(bundle.Pem).Should().NotContain("PRIVATE KEY").And.NotContain("\r").And.NotContain("wiki");
    }

    public static TheoryData<string, string> DataEncodings => new()
    {
        { "pem", First.Pem },
        { "pem with CRLF and 76-character lines", First.UntidyPem() },
        { "pem indented and without a final newline", "  " + First.Pem.TrimEnd().Replace("\n", "\n  ", StringComparison.Ordinal) },
        { "base64 of DER", First.Base64Der },
        { "base64 of DER wrapped at 76 with a final newline", Wrap(First.Base64Der, 76) },
        { "base64 of PEM", Convert.ToBase64String(Encoding.ASCII.GetBytes(First.Pem)) },
        { "base64 of PEM wrapped at 64", Wrap(Convert.ToBase64String(Encoding.ASCII.GetBytes(First.UntidyPem())), 64) },
    };

    [Theory]
    [MemberData(nameof(DataEncodings))]
    public void Every_data_encoding_gives_the_same_normalised_pem(string encoding, string value)
    {
        var result = Render(User(("reg.example", value)));
        result.Problems.Should().BeEmpty(encoding);
        Encoding.ASCII.GetString(result.Bundles.Should().ContainSingle().Subject.Pem).Should().Be(First.Pem, encoding);
    }

    [Fact]
    public void Binary_data_may_hold_der_or_pem()
    {
        var configMap = ConfigMapOf("openshift-config", UserCa,
            binaryData: new Dictionary<string, byte[]?>
            {
                ["der.example"] = First.Der,
                ["pem.example..5000"] = Encoding.ASCII.GetBytes(Second.UntidyPem() + Third.PrivateKeyPem),
            });

        var result = Render(configMap);

        result.Problems.Should().BeEmpty();
        Pems(result).Should().Equal(new Dictionary<string, string>
        {
            ["der.example"] = First.Pem,
            ["pem.example:5000"] = Second.Pem,
        });
    }

    [Fact]
    public void Data_and_binary_data_of_one_config_map_are_both_read()
    {
        var configMap = ConfigMapOf("openshift-config", UserCa,
            data: new Dictionary<string, string?> { ["a.example"] = First.Pem },
            binaryData: new Dictionary<string, byte[]?> { ["b.example"] = Second.Der });
        Pems(Render(configMap)).Keys.Should().Equal("a.example", "b.example");
    }

    public static TheoryData<string, string> ValuesWithoutCertificate => new()
    {
        { "garbage", "this is not a certificate\n" },
        { "empty", "" },
        { "a private key only", First.PrivateKeyPem },
        { "a certificate request", "-----BEGIN CERTIFICATE REQUEST-----\nMIIBCzCBsgIBADAUMRIwEAYDVQQDDAlyZWcuZXhhbXBsZTBZMBMGByqGSM49AgEG\n-----END CERTIFICATE REQUEST-----\n" },
        { "truncated PEM: no END line", First.Pem[..(First.Pem.Length / 2)] },
        { "truncated PEM: body cut, END line kept", First.Pem[..(First.Pem.Length / 2)] + "\n-----END CERTIFICATE-----\n" },
        { "truncated PEM: body cut at a multiple of four", CutBody(First, 40) },
        { "a certificate block with non-base64 inside", "-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n" },
        { "base64 of garbage", Convert.ToBase64String(Encoding.ASCII.GetBytes("garbage, base64-encoded")) },
        { "truncated base64 DER", First.Base64Der[..40] },
        { "base64 of a private key", Convert.ToBase64String(Encoding.ASCII.GetBytes(First.PrivateKeyPem)) },
    };

    [Theory]
    [MemberData(nameof(ValuesWithoutCertificate))]
    public void A_value_without_a_certificate_is_a_warning_and_keeps_the_existing_file(string what, string value)
    {
        var result = Render(User(("reg.example..5000", value), ("good.example", Second.Pem)));

        result.Bundles.Select(b => b.Directory).Should().Equal(["good.example"], what);
        result.KeepExisting.Should().BeEquivalentTo(["reg.example:5000"], what);
        var warning = result.Problems.Should().ContainSingle(what).Subject;
        warning.IsError.Should().BeFalse();
        warning.ToString().Should().StartWith("warning: ConfigMap/openshift-config/user-ca: data[\"reg.example..5000\"]: ")
            .And.Contain("no X.509 certificate").And.Contain("reg.example:5000");
    }

    [Fact]
    public void A_good_certificate_before_a_truncated_block_is_still_written()
    {
        var result = Render(User(("reg.example", First.Pem + Second.Pem[..(Second.Pem.Length / 2)])));
        Encoding.ASCII.GetString(result.Bundles.Should().ContainSingle().Subject.Pem).Should().Be(First.Pem);
    }

    [Fact]
    public void A_truncated_block_before_a_good_certificate_does_not_hide_it()
    {
        var result = Render(User(("reg.example", First.Pem[..(First.Pem.Length / 2)] + "\n" + Second.Pem)));
        result.KeepExisting.Should().BeEmpty();
        Encoding.ASCII.GetString(result.Bundles.Should().ContainSingle("certs.md: a value must contain at least one parsable certificate; this one does").Subject.Pem)
            .Should().Be(Second.Pem);
    }

    [Fact]
    public void A_binary_value_without_a_certificate_is_a_warning()
    {
        var configMap = ConfigMapOf("openshift-config", UserCa,
            binaryData: new Dictionary<string, byte[]?> { ["reg.example"] = [0x30, 0x82, 0x01, 0x00, 0xFF, 0x00], ["key.example"] = Encoding.ASCII.GetBytes(First.PrivateKeyPem) });
        var result = Render(configMap);
        result.Bundles.Should().BeEmpty();
        result.KeepExisting.Should().BeEquivalentTo(["reg.example", "key.example"]);
        result.Problems.Select(p => p.ToString()).Should().SatisfyRespectively(
            p => p.Should().StartWith("warning: ConfigMap/openshift-config/user-ca: binaryData[\"key.example\"]: skipped: no X.509 certificate"),
            p => p.Should().StartWith("warning: ConfigMap/openshift-config/user-ca: binaryData[\"reg.example\"]: skipped: no X.509 certificate"));
    }

    [Fact]
    public void An_invalid_key_is_skipped_with_a_warning_while_the_others_sync()
    {
        var result = Render(User(
            ("../x", First.Pem),
            ("a..b..5000", First.Pem),
            ("good.example..5000", Second.Pem),
            ("10.0.0.1..443", Third.Pem),
            ("r\u00E9gistry.example", First.Pem)));

        Pems(result).Should().Equal(new Dictionary<string, string>
        {
            ["10.0.0.1:443"] = Third.Pem,
            ["good.example:5000"] = Second.Pem,
        });
        result.KeepExisting.Should().BeEmpty("an invalid key names no directory, so there is nothing to keep");
        var lines = result.Problems.Select(p => p.ToString()).ToList();
        lines.Should().HaveCount(3);
        lines.Should().Contain(l => l.StartsWith("warning: ConfigMap/openshift-config/user-ca: data[\"../x\"]: skipped: the key is not a registry host[..port]", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("warning: ConfigMap/openshift-config/user-ca: data[\"a..b..5000\"]: skipped:", StringComparison.Ordinal) && l.Contains("more than one", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("warning: ConfigMap/openshift-config/user-ca: data[\"r\u00E9gistry.example\"]: skipped:", StringComparison.Ordinal));
    }

    [Fact]
    public void Both_config_maps_for_one_registry_give_one_bundle_with_the_users_certificates_first()
    {
        var user = ConfigMapOf("openshift-config", UserCa, data: new Dictionary<string, string?> { [ManagedKey] = Second.Pem + First.Pem });
        var managed = ConfigMapOf("openshift-config-managed", "image-registry-ca", data: new Dictionary<string, string?> { [ManagedKey] = Third.Pem + First.Pem });

        var result = Render(user, managed);

        result.Problems.Should().BeEmpty();
        var bundle = result.Bundles.Should().ContainSingle().Subject;
        bundle.Directory.Should().Be(ManagedDirectory);
        Encoding.ASCII.GetString(bundle.Pem).Should().Be(ThrowawayCa.Normalised(Second, First, Third),
            "the user's certificates first, then the managed ones, each certificate once");
        bundle.Keys.Should().Equal(
            $"ConfigMap/openshift-config/user-ca {ManagedKey}",
            $"ConfigMap/openshift-config-managed/image-registry-ca {ManagedKey}");
    }

    [Fact]
    public void User_first_holds_even_when_the_managed_config_map_is_listed_first()
    {
        var user = ConfigMapOf("openshift-config", UserCa, data: new Dictionary<string, string?> { ["reg.example"] = Second.Pem });
        var managed = ConfigMapOf("openshift-config-managed", "image-registry-ca", data: new Dictionary<string, string?> { ["reg.example"] = First.Pem });
        var result = CaRenderer.Render(Inputs([managed, user]));
        Encoding.ASCII.GetString(result.Bundles.Single().Pem).Should().Be(ThrowawayCa.Normalised(Second, First));
    }

    [Fact]
    public void Additional_trusted_ca_naming_a_missing_config_map_is_a_warning_and_the_managed_one_still_syncs()
    {
        var managed = ConfigMapOf("openshift-config-managed", "image-registry-ca", data: new Dictionary<string, string?> { [ManagedKey] = First.Pem });
        var result = CaRenderer.Render(Inputs([managed], caName: "no-such-ca"));

        result.Problems.Select(p => p.ToString()).Should().Equal(
            "warning: Image/cluster: spec.additionalTrustedCA.name: the ConfigMap openshift-config/no-such-ca does not exist; no CAs from it");
        Pems(result).Keys.Should().Equal(ManagedDirectory);
    }

    [Fact]
    public void Without_additional_trusted_ca_only_the_managed_config_map_counts_and_nothing_is_reported()
    {
        var user = ConfigMapOf("openshift-config", UserCa, data: new Dictionary<string, string?> { ["reg.example"] = Second.Pem });
        var managed = ConfigMapOf("openshift-config-managed", "image-registry-ca", data: new Dictionary<string, string?> { [ManagedKey] = First.Pem });

        foreach (var image in new ImageConfig?[] { null, new() { Metadata = new ObjectMeta { Name = "cluster" } }, ImageWithCa("") })
        {
            var result = CaRenderer.Render(new CaInputs { Snapshot = new ClusterSnapshot { Image = image, ConfigMaps = [user, managed] }, Now = Now });
            result.Problems.Should().BeEmpty();
            Pems(result).Keys.Should().Equal(ManagedDirectory);
        }
    }

    [Fact]
    public void Expired_and_expiring_certificates_are_reported_with_key_and_date_and_still_written()
    {
        var expired = ThrowawayCa.Expired("expired test CA", TimeSpan.FromDays(3));
        // 10 days and 18 hours left: 10 whole days, rounded down as everywhere (not 11).
        var expiring = ThrowawayCa.Create("expiring test CA", Now.AddDays(-1), Now.AddDays(10).AddHours(18));
        var fine = ThrowawayCa.Create("fine test CA", TimeSpan.FromDays(31));

        var result = Render(User(("old.example..5000", expired.Pem), ("soon.example", expiring.Pem + fine.Pem), ("fine.example", fine.Pem)));

        Pems(result).Should().Equal(new Dictionary<string, string>
        {
            ["fine.example"] = fine.Pem,
            ["old.example:5000"] = expired.Pem,
            ["soon.example"] = ThrowawayCa.Normalised(expiring, fine),
        });
        var lines = result.Problems.Select(p => p.ToString()).ToList();
        lines.Should().HaveCount(2, "a certificate with 31 days left is not reported");
        lines.Should().Contain(
            $"warning: ConfigMap/openshift-config/user-ca: data[\"old.example..5000\"]: the certificate \"CN=expired test CA\" for old.example:5000 expired on {Date(expired)}; it is still written");
        lines.Should().Contain(
            $"warning: ConfigMap/openshift-config/user-ca: data[\"soon.example\"]: the certificate \"CN=expiring test CA\" for soon.example expires on {Date(expiring)} (in 10 days)");
    }

    [Fact]
    public void Expiry_is_judged_against_the_given_clock()
    {
        var certificate = ThrowawayCa.Create("clock test CA", TimeSpan.FromDays(365));
        var configMap = User(("reg.example", certificate.Pem));
        Render(configMap).Problems.Should().BeEmpty();
        CaRenderer.Render(Inputs([configMap]) with { Now = certificate.NotAfter.AddDays(-29) }).Problems.Should().ContainSingle()
            .Which.Message.Should().Contain("expires on").And.Contain("(in 29 days)");
        CaRenderer.Render(Inputs([configMap]) with { Now = certificate.NotAfter.AddSeconds(1) }).Problems.Should().ContainSingle()
            .Which.Message.Should().Contain("expired on " + Date(certificate));
    }

    [Fact]
    public void An_empty_managed_ca_config_map_setting_disables_it()
    {
        var managed = ConfigMapOf("openshift-config-managed", "image-registry-ca", data: new Dictionary<string, string?> { [ManagedKey] = First.Pem });
        var user = User(("reg.example", Second.Pem));
        var result = CaRenderer.Render(Inputs([user, managed]) with { ManagedCaConfigMap = "" });
        Pems(result).Keys.Should().Equal("reg.example");
        result.Problems.Should().BeEmpty();
    }

    [Fact]
    public void The_managed_ca_config_map_setting_names_namespace_and_name()
    {
        var moved = ConfigMapOf("my-ns", "my-registry-ca", data: new Dictionary<string, string?> { ["moved.example"] = First.Pem });
        var standard = ConfigMapOf("openshift-config-managed", "image-registry-ca", data: new Dictionary<string, string?> { [ManagedKey] = Second.Pem });
        var result = CaRenderer.Render(Inputs([moved, standard]) with { ManagedCaConfigMap = "my-ns/my-registry-ca" });
        Pems(result).Keys.Should().Equal("moved.example");
    }

    [Fact]
    public void The_ca_namespace_setting_is_where_the_user_config_map_is_looked_up()
    {
        var inDefault = ConfigMapOf("openshift-config", UserCa, data: new Dictionary<string, string?> { ["default-ns.example"] = First.Pem });
        var inCustom = ConfigMapOf("custom-config", UserCa, data: new Dictionary<string, string?> { ["custom-ns.example"] = Second.Pem });
        var wrongNamespaceOnly = ConfigMapOf("kube-system", UserCa, data: new Dictionary<string, string?> { ["kube.example"] = Third.Pem });

        Pems(CaRenderer.Render(Inputs([inDefault, inCustom]))).Keys.Should().Equal("default-ns.example");
        Pems(CaRenderer.Render(Inputs([inDefault, inCustom]) with { CaNamespace = "custom-config" })).Keys.Should().Equal("custom-ns.example");

        var elsewhere = CaRenderer.Render(Inputs([wrongNamespaceOnly]));
        elsewhere.Bundles.Should().BeEmpty("a ConfigMap of that name in another namespace is not the one named");
        elsewhere.Problems.Should().ContainSingle().Which.Message.Should().Contain("openshift-config/user-ca does not exist");
    }

    [Fact]
    public void Bundles_are_in_byte_order_of_their_directory()
    {
        var result = Render(User(("b.example", First.Pem), ("B.example", First.Pem), ("a.example..5000", First.Pem), ("a.example", First.Pem)));
        result.Bundles.Select(b => b.Directory).Should().Equal("B.example", "a.example", "a.example:5000", "b.example");
    }

    [Fact]
    public void The_render_is_deterministic()
    {
        var configMap = User(("reg.example", First.UntidyPem() + Second.Pem), ("bad.example", "junk"), ("../x", First.Pem));
        var a = Render(configMap);
        var b = Render(configMap);
        a.Bundles.Select(x => (x.Directory, Convert.ToBase64String(x.Pem))).Should().Equal(b.Bundles.Select(x => (x.Directory, Convert.ToBase64String(x.Pem))));
        a.Problems.Should().Equal(b.Problems);
    }

    private static CaRenderResult Render(params ConfigMap[] configMaps) => CaRenderer.Render(Inputs(configMaps));

    private static CaInputs Inputs(IReadOnlyList<ConfigMap> configMaps, string caName = UserCa) => new()
    {
        Snapshot = new ClusterSnapshot { Image = ImageWithCa(caName), ConfigMaps = configMaps },
        Now = Now,
    };

    private static ImageConfig ImageWithCa(string name) => new()
    {
        Metadata = new ObjectMeta { Name = "cluster" },
        Spec = new ImageSpec { AdditionalTrustedCA = new ConfigMapNameReference { Name = name } },
    };

    private static ConfigMap User(params (string Key, string Value)[] data) =>
        ConfigMapOf("openshift-config", UserCa, data: data.ToDictionary(d => d.Key, d => (string?)d.Value));

    private static ConfigMap ConfigMapOf(string ns, string name, IReadOnlyDictionary<string, string?>? data = null, IReadOnlyDictionary<string, byte[]?>? binaryData = null) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new ObjectMeta { Name = name, Namespace = ns },
        Data = data,
        BinaryData = binaryData,
    };

    private static Dictionary<string, string> Pems(CaRenderResult result) =>
        result.Bundles.ToDictionary(b => b.Directory, b => Encoding.ASCII.GetString(b.Pem));

    private static string Date(ThrowawayCa certificate) =>
        certificate.NotAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string Wrap(string text, int width) =>
        string.Concat(text.Chunk(width).Select(c => new string(c) + "\n"));

    // A PEM block whose body is cut to a multiple of four characters, so it is still valid base64
    // but no longer a whole certificate.
    private static string CutBody(ThrowawayCa certificate, int length) =>
        "-----BEGIN CERTIFICATE-----\n" + certificate.Base64Der[..length] + "\n-----END CERTIFICATE-----\n";
}
