using System.Diagnostics;
using System.Net.Http;
using System.Security.Authentication;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cluster.Kube;

/// <summary>
/// <see cref="KubeClient"/> against the in-process fake API server: TLS pinned to the
/// kubeconfig's CA, token and client-certificate auth, list, watch and the errors callers act on.
/// </summary>
public sealed class KubeClientTests : IAsyncLifetime, IDisposable
{
    private const string IdmsList = "ImageDigestMirrorSetList";
    private const string ConfigV1 = "config.openshift.io/v1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly TempRoot _dir = new("kube-client");
    private FakeApiServer _server = null!;
    private FakeApiServer.FakeResource _idms = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _server.RequiredToken = "s3cret";
        _idms = _server.Serve(ResourceType.ImageDigestMirrorSets.Path, IdmsList, ConfigV1);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _server.Pki.Dispose();
    }

    public void Dispose() => _dir.Dispose();

    private KubeConfig Config(string? token = "s3cret") => new()
    {
        Source = "test",
        Server = _server.Url,
        CertificateAuthority = Encoding.ASCII.GetBytes(_server.Pki.CaPem),
        Token = token,
    };

    private static JsonObject Idms(string name, string resourceVersion) => new()
    {
        ["apiVersion"] = ConfigV1,
        ["kind"] = "ImageDigestMirrorSet",
        ["metadata"] = new JsonObject { ["name"] = name, ["resourceVersion"] = resourceVersion },
        ["spec"] = new JsonObject { ["imageDigestMirrors"] = new JsonArray() },
    };

    [Fact]
    public async Task Lists_items_and_the_resource_version_from_the_watch_cache()
    {
        _idms.Add(Idms("a", "7"));
        _idms.Add(Idms("b", "8"));
        _idms.ResourceVersion = "42";
        using var client = new KubeClient(Config());

        var list = await client.ListAsync(ResourceType.ImageDigestMirrorSets, "metadata.name=a", CancellationToken.None);

        list.ResourceVersion.Should().Be("42");
        list.Items.Select(i => i["metadata"]!["name"]!.GetValue<string>()).Should().Equal("a");
        ObjectDecoder.Decode(KnownKinds.Find(ConfigV1, "ImageDigestMirrorSet")!.Watched, list.Items[0]).Should().NotBeNull();
        _server.Requests.Should().ContainSingle().Which.Should()
            .Be("/apis/config.openshift.io/v1/imagedigestmirrorsets?resourceVersion=0&fieldSelector=metadata.name%3Da");
    }

    [Fact]
    public async Task Fills_in_apiVersion_and_kind_that_a_typed_list_leaves_off_its_items()
    {
        var configMaps = _server.Serve("/api/v1/namespaces/openshift-config/configmaps", "ConfigMapList", "v1");
        configMaps.Add(new JsonObject { ["metadata"] = new JsonObject { ["name"] = "ca" }, ["data"] = new JsonObject() });
        using var client = new KubeClient(Config());

        var list = await client.ListAsync(ResourceType.ConfigMaps("openshift-config"), null, CancellationToken.None);

        list.Items.Single()["apiVersion"]!.GetValue<string>().Should().Be("v1");
        list.Items.Single()["kind"]!.GetValue<string>().Should().Be("ConfigMap");
    }

    [Fact]
    public async Task Gets_one_object_by_name_and_reports_a_missing_one_as_404()
    {
        _idms.Add(Idms("a", "7"));
        using var client = new KubeClient(Config());

        var item = await client.GetAsync(ResourceType.ImageDigestMirrorSets, "a", CancellationToken.None);
        var missing = () => client.GetAsync(ResourceType.ImageDigestMirrorSets, "zz", CancellationToken.None);

        item["metadata"]!["name"]!.GetValue<string>().Should().Be("a");
        (await missing.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(404);
    }

    [Fact]
    public async Task Refuses_a_server_signed_by_another_CA()
    {
        using var other = new ApiPki("another CA");
        using var client = new KubeClient(Config() with { CertificateAuthority = Encoding.ASCII.GetBytes(other.CaPem) });

        var act = () => client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        (await act.Should().ThrowAsync<HttpRequestException>()).Which.InnerException.Should().BeAssignableTo<AuthenticationException>();
        _server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Insecure_skip_tls_verify_accepts_any_server()
    {
        using var client = new KubeClient(Config() with { CertificateAuthority = null, InsecureSkipTlsVerify = true });

        var list = await client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        list.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task A_wrong_token_is_401_and_the_token_file_is_re_read_per_request()
    {
        var tokenFile = _dir.Write("token", "old\n");
        using var client = new KubeClient(Config(token: "inline-is-ignored") with { TokenFile = tokenFile });
        _server.RequiredToken = "old";
        await client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        _server.RequiredToken = "rotated";
        var stale = () => client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);
        (await stale.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(401);

        File.WriteAllText(tokenFile, "rotated\n");
        await client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);
    }

    [Fact]
    public async Task Authenticates_with_a_client_certificate()
    {
        _server.RequiredToken = null;
        _server.RequireClientCertificate = true;
        using var anonymous = new KubeClient(Config(token: null));
        var refused = () => anonymous.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);
        (await refused.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(401);

        using var certificate = _server.Pki.Issue("system:node:worker-0", serverAuth: false);
        using var client = new KubeClient(Config(token: null) with
        {
            ClientCertificate = Encoding.ASCII.GetBytes(ApiPki.CertificatePem(certificate)),
            ClientKey = Encoding.ASCII.GetBytes(ApiPki.KeyPem(certificate)),
        });

        await client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        _server.LastClientSubject.Should().Be("CN=system:node:worker-0");
    }

    [Fact]
    public async Task Watches_events_in_order_with_bookmarks_until_the_server_ends_the_stream()
    {
        _idms.Event("ADDED", Idms("a", "43"));
        _idms.Event("MODIFIED", Idms("a", "44"));
        _idms.Bookmark("45");
        _idms.Event("DELETED", Idms("a", "46"));
        _idms.EndWatch();
        using var client = new KubeClient(Config());
        using var deadline = new CancellationTokenSource(Deadline);

        var events = new List<WatchEvent>();
        await foreach (var e in client.WatchAsync(ResourceType.ImageDigestMirrorSets, "42", null, 300, deadline.Token))
        {
            events.Add(e);
        }

        events.Select(e => (e.Type, e.ResourceVersion)).Should().Equal(
            (WatchEventType.Added, "43"), (WatchEventType.Modified, "44"), (WatchEventType.Bookmark, "45"), (WatchEventType.Deleted, "46"));
        _server.Requests.Should().ContainSingle().Which.Should()
            .Be("/apis/config.openshift.io/v1/imagedigestmirrorsets?watch=true&allowWatchBookmarks=true&resourceVersion=42&timeoutSeconds=300");
    }

    [Fact]
    public async Task Gone_is_the_same_exception_as_an_HTTP_status_and_as_an_ERROR_event()
    {
        using var client = new KubeClient(Config());
        using var deadline = new CancellationTokenSource(Deadline);

        _server.FailNext(410);
        var asStatus = await ((Func<Task>)(() => Drain(client, deadline.Token))).Should().ThrowAsync<KubeApiException>();
        asStatus.Which.IsGone.Should().BeTrue();
        asStatus.Which.Reason.Should().Be("Expired");

        _idms.Event("ADDED", Idms("a", "43"));
        _idms.Error(410);
        var asEvent = await ((Func<Task>)(() => Drain(client, deadline.Token))).Should().ThrowAsync<KubeApiException>();
        asEvent.Which.IsGone.Should().BeTrue();
        asEvent.Which.Reason.Should().Be("Expired");
    }

    [Theory]
    [InlineData(404, "NotFound")]
    [InlineData(500, "InternalError")]
    public async Task Other_failures_carry_their_status_code_and_reason(int code, string reason)
    {
        using var client = new KubeClient(Config());
        _server.FailNext(code);

        var act = () => client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        var thrown = await act.Should().ThrowAsync<KubeApiException>();
        thrown.Which.StatusCode.Should().Be(code);
        thrown.Which.Reason.Should().Be(reason);
    }

    [Fact]
    public async Task A_resource_type_that_is_not_served_is_404()
    {
        using var client = new KubeClient(Config());
        using var deadline = new CancellationTokenSource(Deadline);

        var act = () => client.ListAsync(ResourceType.ImageTagMirrorSets, null, deadline.Token);

        (await act.Should().ThrowAsync<KubeApiException>()).Which.StatusCode.Should().Be(404);
    }

    [Fact]
    public async Task Cancelling_ends_a_silent_watch_promptly()
    {
        using var client = new KubeClient(Config());
        using var cancel = new CancellationTokenSource();
        var watch = Drain(client, cancel.Token);
        await WaitUntil(() => _server.OpenWatches == 1);

        var stopwatch = Stopwatch.StartNew();
        await cancel.CancelAsync();

        await watch.Invoking(w => w).Should().ThrowAsync<OperationCanceledException>();
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_watch_that_outlives_its_timeout_is_dropped_as_stalled()
    {
        _idms.StallWatches = true;
        using var client = new KubeClient(Config()) { WatchGrace = TimeSpan.FromMilliseconds(200) };
        using var deadline = new CancellationTokenSource(Deadline);

        var act = async () =>
        {
            await foreach (var _ in client.WatchAsync(ResourceType.ImageDigestMirrorSets, "42", null, 1, deadline.Token))
            {
            }
        };

        await act.Should().ThrowAsync<TimeoutException>();
        deadline.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task An_ERROR_event_other_than_gone_carries_its_code()
    {
        _idms.Error(500);
        using var client = new KubeClient(Config());
        using var deadline = new CancellationTokenSource(Deadline);

        var thrown = await ((Func<Task>)(() => Drain(client, deadline.Token))).Should().ThrowAsync<KubeApiException>();

        thrown.Which.StatusCode.Should().Be(500);
        thrown.Which.IsGone.Should().BeFalse();
    }

    [Fact]
    public async Task Connects_with_a_kubeconfig_file_using_a_relative_CA_file_and_client_certificate_data()
    {
        _server.RequiredToken = null;
        _server.RequireClientCertificate = true;
        using var certificate = _server.Pki.Issue("system:admin", serverAuth: false);
        _dir.Write("kube/ca.crt", _server.Pki.CaPem);
        static string B64(string text) => Convert.ToBase64String(Encoding.ASCII.GetBytes(text));
        var path = _dir.Write("kube/config", $"""
            apiVersion: v1
            kind: Config
            current-context: admin
            contexts:
            - name: admin
              context: {"{"}cluster: fake, user: admin{"}"}
            clusters:
            - name: fake
              cluster:
                server: {_server.Url.ToString().TrimEnd('/')}
                certificate-authority: ca.crt
            users:
            - name: admin
              user:
                client-certificate-data: {B64(ApiPki.CertificatePem(certificate))}
                client-key-data: {B64(ApiPki.KeyPem(certificate))}
            """);
        _idms.Add(Idms("a", "7"));
        using var client = new KubeClient(KubeConfig.Resolve(path, _ => null, _dir.File("no-sa"))!);

        var list = await client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        list.Items.Should().ContainSingle();
        _server.LastClientSubject.Should().Be("CN=system:admin");
    }

    [Fact]
    public async Task Connects_in_cluster_with_the_service_account_token_and_CA()
    {
        _dir.Write("sa/token", "s3cret\n");
        _dir.Write("sa/ca.crt", _server.Pki.CaPem);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["KUBERNETES_SERVICE_HOST"] = "127.0.0.1",
            ["KUBERNETES_SERVICE_PORT"] = _server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        using var client = new KubeClient(KubeConfig.Resolve(null, env.GetValueOrDefault, _dir.File("sa"))!);

        var list = await client.ListAsync(ResourceType.ImageDigestMirrorSets, null, CancellationToken.None);

        list.ResourceVersion.Should().Be("1");
    }

    [Fact]
    public void Unusable_certificate_material_is_a_configuration_error()
    {
        var badCa = () => new KubeClient(Config() with { CertificateAuthority = Encoding.ASCII.GetBytes("not a certificate") });
        var keyWithoutCertificate = () => new KubeClient(Config() with { ClientKey = Encoding.ASCII.GetBytes("KEY") });

        badCa.Should().Throw<KubeConfigException>().Where(e => e.Field == "certificate-authority");
        keyWithoutCertificate.Should().Throw<KubeConfigException>().Where(e => e.Field == "client-certificate");
    }

    private static async Task Drain(KubeClient client, CancellationToken cancellationToken)
    {
        await foreach (var _ in client.WatchAsync(ResourceType.ImageDigestMirrorSets, "42", null, 300, cancellationToken))
        {
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            stopwatch.Elapsed.Should().BeLessThan(Deadline, "the condition should hold before the deadline");
            await Task.Delay(10);
        }
    }
}
