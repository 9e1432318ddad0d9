using System.Text;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cluster.Kube;

/// <summary>Kubeconfig and in-cluster loading, and the order <see cref="KubeConfig.Resolve"/> chooses in.</summary>
public sealed class KubeConfigTests : IDisposable
{
    private readonly TempRoot _dir = new("kubeconfig");

    public void Dispose() => _dir.Dispose();

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private string Kubeconfig(string cluster, string user, string currentContext = "current-context: main", string name = "kubeconfig") =>
        _dir.Write(name, $"""
            apiVersion: v1
            kind: Config
            {currentContext}
            contexts:
            - name: other
              context: {"{"}cluster: nowhere, user: nobody{"}"}
            - name: main
              context:
                cluster: prod
                user: admin
                namespace: openshift-config
            clusters:
            - name: prod
              cluster:
            {Indent(cluster)}
            users:
            - name: admin
              user:
            {Indent(user)}
            """);

    private static string Indent(string block) =>
        string.Join("\n", block.Split('\n').Select(l => "    " + l));

    [Fact]
    public void Reads_inline_data_fields_of_the_current_context()
    {
        var path = Kubeconfig(
            $"server: https://api.example.com:6443\ncertificate-authority-data: {B64("CA PEM")}",
            $"token: abc123\nclient-certificate-data: {B64("CERT PEM")}\nclient-key-data: {B64("KEY PEM")}");

        var config = KubeConfig.Load(path);

        config.Server.Should().Be(new Uri("https://api.example.com:6443"));
        Encoding.UTF8.GetString(config.CertificateAuthority!).Should().Be("CA PEM");
        config.Token.Should().Be("abc123");
        Encoding.UTF8.GetString(config.ClientCertificate!).Should().Be("CERT PEM");
        Encoding.UTF8.GetString(config.ClientKey!).Should().Be("KEY PEM");
        config.InsecureSkipTlsVerify.Should().BeFalse();
        config.Namespace.Should().Be("openshift-config");
        config.Source.Should().Be(path);
    }

    [Fact]
    public void Resolves_relative_file_fields_against_the_kubeconfig_directory()
    {
        _dir.Write("conf/pki/ca.crt", "CA FILE");
        _dir.Write("conf/pki/client.crt", "CERT FILE");
        _dir.Write("conf/pki/client.key", "KEY FILE");
        var path = Kubeconfig(
            "server: https://api.example.com:6443\ncertificate-authority: pki/ca.crt",
            $"tokenFile: pki/token\nclient-certificate: pki/client.crt\nclient-key: {_dir.File("conf/pki/client.key")}",
            name: "conf/kubeconfig");

        var config = KubeConfig.Load(path);

        Encoding.UTF8.GetString(config.CertificateAuthority!).Should().Be("CA FILE");
        Encoding.UTF8.GetString(config.ClientCertificate!).Should().Be("CERT FILE");
        Encoding.UTF8.GetString(config.ClientKey!).Should().Be("KEY FILE");
        // The token file is kept as a path (re-read per request), resolved now.
        config.TokenFile.Should().Be(_dir.File("conf/pki/token"));
    }

    [Fact]
    public void Reads_insecure_skip_tls_verify()
    {
        var config = KubeConfig.Load(Kubeconfig("server: https://10.0.0.1:6443\ninsecure-skip-tls-verify: true", "token: t"));

        config.InsecureSkipTlsVerify.Should().BeTrue();
        config.CertificateAuthority.Should().BeNull();
    }

    [Theory]
    [InlineData("missing current-context", "", "server: https://a:1", "current-context", "is not set")]
    [InlineData("context not listed", "current-context: ghost", "server: https://a:1", "contexts", "no context named \"ghost\" (known: other, main)")]
    [InlineData("cluster not listed", "current-context: other", "server: https://a:1", "clusters", "no cluster named \"nowhere\"")]
    [InlineData("missing server", "current-context: main", "insecure-skip-tls-verify: true", "clusters[prod].cluster.server", "is not set")]
    [InlineData("server not a URL", "current-context: main", "server: localhost", "clusters[prod].cluster.server", "not an http(s) URL")]
    [InlineData("bad base64", "current-context: main", "server: https://a:1\ncertificate-authority-data: '***'", "clusters[prod].cluster.certificate-authority-data", "not valid base64")]
    [InlineData("CA file missing", "current-context: main", "server: https://a:1\ncertificate-authority: nope.crt", "clusters[prod].cluster.certificate-authority", "cannot read")]
    public void Names_the_file_and_field_of_every_error(string reason, string currentContext, string cluster, string field, string message)
    {
        var path = Kubeconfig(cluster, "token: t", currentContext);

        var act = () => KubeConfig.Load(path);

        act.Should().Throw<KubeConfigException>(reason)
            .Where(e => e.Origin == path && e.Field == field && e.Message.Contains(message, StringComparison.Ordinal), reason);
    }

    [Fact]
    public void Names_an_unknown_user()
    {
        var path = _dir.Write("kubeconfig", """
            current-context: c
            contexts: [{name: c, context: {cluster: k, user: ghost}}]
            clusters: [{name: k, cluster: {server: "https://a:1"}}]
            users: []
            """);

        var act = () => KubeConfig.Load(path);

        act.Should().Throw<KubeConfigException>().Where(e => e.Field == "users" && e.Message.Contains("no user named \"ghost\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Invalid_YAML_names_the_file_and_line()
    {
        var path = _dir.Write("kubeconfig", "current-context: main\nclusters: [\n");

        var act = () => KubeConfig.Load(path);

        act.Should().Throw<KubeConfigException>().Where(e => e.Origin.StartsWith(path + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void In_cluster_reads_the_service_account_directory_and_service_address()
    {
        _dir.Write("sa/token", "sa-token\n");
        _dir.Write("sa/ca.crt", "SA CA");
        _dir.Write("sa/namespace", "node-agent\n");
        var env = Env(("KUBERNETES_SERVICE_HOST", "172.30.0.1"), ("KUBERNETES_SERVICE_PORT", "443"));

        var config = KubeConfig.InCluster(env, _dir.File("sa"))!;

        config.Server.Should().Be(new Uri("https://172.30.0.1:443"));
        config.TokenFile.Should().Be(_dir.File("sa/token"));
        Encoding.UTF8.GetString(config.CertificateAuthority!).Should().Be("SA CA");
        config.Namespace.Should().Be("node-agent");
    }

    [Fact]
    public void In_cluster_brackets_an_IPv6_service_host()
    {
        _dir.Write("sa/token", "t");
        var config = KubeConfig.InCluster(Env(("KUBERNETES_SERVICE_HOST", "fd02::1"), ("KUBERNETES_SERVICE_PORT", "443")), _dir.File("sa"))!;

        config.Server.Should().Be(new Uri("https://[fd02::1]:443"));
    }

    [Fact]
    public void In_cluster_without_a_token_is_an_error_naming_the_file()
    {
        var act = () => KubeConfig.InCluster(Env(("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("KUBERNETES_SERVICE_PORT", "443")), _dir.File("sa"));

        act.Should().Throw<KubeConfigException>().Where(e => e.Field == "token" && e.Message.Contains(_dir.File("sa/token"), StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_prefers_the_explicit_path_then_KUBECONFIG_then_in_cluster_then_nothing()
    {
        var explicitPath = Kubeconfig("server: https://explicit:6443", "token: t", name: "explicit");
        var fromEnv = Kubeconfig("server: https://from-env:6443", "token: t", name: "env");
        _dir.Write("sa/token", "t");
        var inCluster = Env(("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("KUBERNETES_SERVICE_PORT", "443"));
        var all = Env(("KUBECONFIG", $"{_dir.File("absent")}:{fromEnv}"), ("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("KUBERNETES_SERVICE_PORT", "443"));
        var sa = _dir.File("sa");

        KubeConfig.Resolve(explicitPath, all, sa)!.Server.Host.Should().Be("explicit", "--kubeconfig wins");
        KubeConfig.Resolve(null, all, sa)!.Server.Host.Should().Be("from-env", "the first existing file in KUBECONFIG is next");
        KubeConfig.Resolve(null, inCluster, sa)!.Server.Host.Should().Be("10.0.0.1", "then the service account");
        KubeConfig.Resolve(null, Env(), sa).Should().BeNull("with nothing configured there is no connection, never localhost");
    }

    [Fact]
    public void Resolve_does_not_fall_back_when_a_named_file_is_missing()
    {
        _dir.Write("sa/token", "t");
        var env = Env(("KUBECONFIG", _dir.File("absent")), ("KUBERNETES_SERVICE_HOST", "10.0.0.1"), ("KUBERNETES_SERVICE_PORT", "443"));

        ((Action)(() => KubeConfig.Resolve(_dir.File("missing"), env, _dir.File("sa")))).Should().Throw<KubeConfigException>()
            .Where(e => e.Origin == _dir.File("missing"));
        ((Action)(() => KubeConfig.Resolve(null, env, _dir.File("sa")))).Should().Throw<KubeConfigException>()
            .Where(e => e.Origin == "KUBECONFIG");
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}
