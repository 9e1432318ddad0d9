using FluentAssertions;
using NodeAgent.Consumer;
using Xunit;

namespace NodeAgent.Tests.Consumer;

/// <summary>Which certs.d directory containers/image reads for a host, what counts in it, and what it hides.</summary>
public sealed class CertsDirectoryTests
{
    private const string Host = "reg.example:5000";
    private const string Containers = "etc/containers/certs.d/" + Host;
    private const string Docker = "etc/docker/certs.d/" + Host;

    private static CertsChoice Choose(CertsDirListing containers, CertsDirListing docker) => CertsDirectory.Choose(Host, [containers, docker]);

    private static CertsDirListing Missing(string path) => new(path, false, []);

    [Fact]
    public void Neither_exists_system_roots_only()
    {
        var choice = Choose(Missing(Containers), Missing(Docker));
        choice.Directory.Should().BeNull();
        choice.Checked.Should().Equal(Containers, Docker);
        choice.Error.Should().BeNull();
        choice.Warning.Should().BeNull();
    }

    [Fact]
    public void Docker_certs_d_is_used_when_containers_has_no_directory()
    {
        var choice = Choose(Missing(Containers), new(Docker, true, ["ca.crt", "corp-root.crt", "ca.pem", "README"]));
        choice.Directory.Should().Be(Docker);
        choice.CaFiles.Should().Equal(["ca.crt", "corp-root.crt"], "any *.crt is a CA; *.pem and other files are ignored");
        choice.Warning.Should().BeNull();
    }

    [Fact]
    public void An_empty_containers_directory_shadows_the_CA_in_docker_certs_d()
    {
        var choice = Choose(new(Containers, true, []), new(Docker, true, ["ca.crt"]));
        choice.Directory.Should().Be(Containers, "the first existing directory is the only one read, even empty");
        choice.CaFiles.Should().BeEmpty();
        choice.Warning.Should().Be($"{Containers} shadows {Docker}: its CA files (ca.crt) are NOT used, and {Containers} has none, so only the system roots are trusted for this host");
    }

    [Fact]
    public void A_containers_directory_with_its_own_CA_still_hides_the_other_one_with_a_milder_warning()
    {
        var choice = Choose(new(Containers, true, ["ca.crt"]), new(Docker, true, ["ca.crt"]));
        choice.CaFiles.Should().Equal("ca.crt");
        choice.Warning.Should().Be($"{Containers} shadows {Docker}: containers/image reads only the first existing directory");
    }

    [Fact]
    public void Client_certificates_pair_by_base_name()
    {
        var choice = Choose(Missing(Containers), new(Docker, true, ["b.key", "a.cert", "a.key", "b.cert", "ca.crt"]));
        choice.ClientCertificates.Should().Equal("a.cert + a.key", "b.cert + b.key");
        choice.Error.Should().BeNull();
    }

    [Theory]
    [InlineData(new[] { "client.cert" }, "missing key client.key for client certificate client.cert. Note that CA certificates should use the extension .crt", "a .cert without its key")]
    [InlineData(new[] { "client.key" }, "missing client certificate client.cert for key client.key", "a .key without its certificate")]
    [InlineData(new[] { "ca.cert", "z.key" }, "missing key ca.key for client certificate ca.cert. Note that CA certificates should use the extension .crt", "the first unpaired file in name order is reported")]
    public void Unpaired_client_files_fail_the_endpoint(string[] files, string error, string reason)
    {
        Choose(Missing(Containers), new(Docker, true, files)).Error.Should().Be(error, reason);
    }
}
