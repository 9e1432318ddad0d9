using System.Text;
using System.Text.Json.Nodes;
using NodeAgent.Cluster;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A <see cref="FakeApiServer"/> serving every collection node-agent watches, a kubeconfig that
/// points at it, and manifest-shaped writes: <see cref="Apply"/> takes the same YAML that
/// <c>--once --manifests</c> reads, so a test can compare the daemon with a one-shot run.
/// </summary>
public sealed class FakeCluster : IAsyncDisposable
{
    public const string Token = "node-agent-test-token";

    private readonly TempRoot _dir = new("fake-cluster");

    private FakeCluster(FakeApiServer server)
    {
        Server = server;
    }

    public FakeApiServer Server { get; }

    /// <summary>A kubeconfig with the server's URL, its CA and a bearer token.</summary>
    public string Kubeconfig { get; private set; } = "";

    public static IReadOnlyList<(string Path, string ListKind, string ApiVersion)> Collections { get; } =
    [
        (ResourceType.Images.Path, "ImageList", "config.openshift.io/v1"),
        (ResourceType.ClusterVersions.Path, "ClusterVersionList", "config.openshift.io/v1"),
        (ResourceType.ImageContentSourcePolicies.Path, "ImageContentSourcePolicyList", "operator.openshift.io/v1alpha1"),
        (ResourceType.ImageDigestMirrorSets.Path, "ImageDigestMirrorSetList", "config.openshift.io/v1"),
        (ResourceType.ImageTagMirrorSets.Path, "ImageTagMirrorSetList", "config.openshift.io/v1"),
        (ResourceType.ConfigMaps("openshift-config").Path, "ConfigMapList", "v1"),
        (ResourceType.ConfigMaps("openshift-config-managed").Path, "ConfigMapList", "v1"),
    ];

    public static async Task<FakeCluster> StartAsync()
    {
        var server = await FakeApiServer.StartAsync().ConfigureAwait(false);
        server.RequiredToken = Token;
        var cluster = new FakeCluster(server);
        foreach (var (path, listKind, apiVersion) in Collections)
        {
            server.Serve(path, listKind, apiVersion);
        }
        // Written by --report-status, never watched.
        server.Serve(ResourceType.Nodes.Path, "NodeList", "v1");
        server.Serve(ResourceType.Events("default").Path, "EventList", "v1");
        cluster.Kubeconfig = cluster._dir.Write("kubeconfig", $"""
            apiVersion: v1
            kind: Config
            current-context: fake
            contexts:
            - name: fake
              context: {"{"}cluster: fake, user: node-agent{"}"}
            clusters:
            - name: fake
              cluster:
                server: {server.Url}
                certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(server.Pki.CaPem))}
            users:
            - name: node-agent
              user:
                token: {Token}
            """);
        return cluster;
    }

    /// <summary>Creates or replaces every object in <paramref name="yaml"/> (one or more documents) in its collection.</summary>
    public void Apply(string yaml)
    {
        foreach (var obj in Objects(yaml))
        {
            Collection(obj).Put(obj);
        }
    }

    /// <summary>A Node object, for <c>--report-status</c> to annotate.</summary>
    public void AddNode(string name) =>
        Server.Serve(ResourceType.Nodes.Path, "NodeList", "v1").Put(FakeApiServer.Object("v1", "Node", name));

    /// <summary>The Node's annotations as stored now.</summary>
    public JsonObject? NodeAnnotations(string name) =>
        Server.Serve(ResourceType.Nodes.Path, "NodeList", "v1").Stored(name)?["metadata"]?["annotations"] as JsonObject;

    /// <summary>Every Event created so far, oldest first.</summary>
    public IReadOnlyList<JsonObject> Events() =>
        Server.Serve(ResourceType.Events("default").Path, "EventList", "v1").All();

    /// <summary>Deletes the objects <paramref name="yaml"/> names.</summary>
    public void Delete(string yaml)
    {
        foreach (var obj in Objects(yaml))
        {
            Collection(obj).Delete(obj["metadata"]!["name"]!.GetValue<string>());
        }
    }

    /// <summary>The collection of a kind, e.g. <c>ResourceType.ImageDigestMirrorSets.Path</c>.</summary>
    public FakeApiServer.FakeResource Collection(string path)
    {
        var (_, listKind, apiVersion) = Collections.Single(c => c.Path == path);
        return Server.Serve(path, listKind, apiVersion);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        Server.Pki.Dispose();
        _dir.Dispose();
    }

    private FakeApiServer.FakeResource Collection(JsonObject obj)
    {
        var kind = obj["kind"]!.GetValue<string>();
        var path = kind switch
        {
            "Image" => ResourceType.Images.Path,
            "ClusterVersion" => ResourceType.ClusterVersions.Path,
            "ImageContentSourcePolicy" => ResourceType.ImageContentSourcePolicies.Path,
            "ImageDigestMirrorSet" => ResourceType.ImageDigestMirrorSets.Path,
            "ImageTagMirrorSet" => ResourceType.ImageTagMirrorSets.Path,
            "ConfigMap" => ResourceType.ConfigMaps(obj["metadata"]!["namespace"]!.GetValue<string>()).Path,
            _ => throw new ArgumentException($"the fake cluster does not serve {kind}"),
        };
        return Collection(path);
    }

    private static IEnumerable<JsonObject> Objects(string yaml) =>
        YamlToJson.Read("test.yaml", yaml, new ManifestLimits(16L * 1024 * 1024, 64)).Select(d => d.Node.AsObject());
}
