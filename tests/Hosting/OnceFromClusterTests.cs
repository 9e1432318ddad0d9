using System.Text.Json.Nodes;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Sync;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// <c>--once</c> without <c>--manifests</c>: one list of every kind from the API server, then the
/// same pass as from files, and cli.md's exit codes when the cluster cannot be read.
/// </summary>
public sealed class OnceFromClusterTests : IAsyncLifetime, IDisposable
{
    private readonly TempRoot _work = new("once-cluster");
    private FakeCluster _cluster = null!;

    private string Root => _work.File("root");

    public async Task InitializeAsync() => _cluster = await FakeCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    public void Dispose() => _work.Dispose();

    private ProcessResult Once(params string[] extra) =>
        NodeAgentProcess.Run(["--once", "--root", Root, "--reload-command", "", .. extra]);

    private SortedDictionary<string, string> FromManifests(string yaml)
    {
        var file = _work.Write("objects.yaml", yaml);
        var root = _work.File("oracle");
        var run = NodeAgentProcess.Run(["--once", "--manifests", file, "--root", root, "--reload-command", ""]);
        run.ExitCode.Should().Be(0, run.ToString());
        return DirectorySnapshot.Of(Path.Join(root, "etc"));
    }

    [Fact]
    public void Writes_what_the_same_objects_as_manifests_give()
    {
        var objects = string.Join("\n---\n",
            Manifests.Image("insecureRegistries: [\"insecure.example\"]") + "\n  additionalTrustedCA:\n    name: cas\n",
            Manifests.Idms("digest", "- source: registry.example/team\n  mirrors: [\"mirror.example/team\"]"),
            Manifests.Itms("tags", "- source: tags.example/tools\n  mirrors: [\"mirror.example/tools\"]"),
            $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cas, namespace: openshift-config}}\ndata:\n  mirror.example..5000: |\n{string.Join('\n', ThrowawayCa.Create("once CA").Pem.TrimEnd('\n').Split('\n').Select(l => "    " + l))}\n");
        _cluster.Apply(objects);

        var run = Once("--kubeconfig", _cluster.Kubeconfig);

        run.ExitCode.Should().Be(0, run.ToString());
        DirectorySnapshot.Of(Path.Join(Root, "etc")).Should().Equal(FromManifests(objects));
        _cluster.Server.Requests.Should().NotContain(r => r.Contains("watch=", StringComparison.Ordinal), "--once lists and never watches");
    }

    [Fact]
    public void Report_status_annotates_the_node_and_records_events_only_when_asked()
    {
        _cluster.AddNode("worker-7");
        _cluster.Apply(Manifests.Idms("digest", "- source: registry.example/team\n  mirrors: [\"mirror.example/team\"]"));

        Once("--kubeconfig", _cluster.Kubeconfig, "--node-name", "worker-7").ExitCode.Should().Be(0);
        _cluster.Events().Should().BeEmpty("the default install only reads");
        _cluster.NodeAnnotations("worker-7").Should().BeNull();

        _cluster.Apply(Manifests.Idms("digest", "- source: registry.example/team\n  mirrors: [\"mirror2.example/team\"]"));
        var run = NodeAgentProcess.Run(["--once", "--root", Root, "--reload-command", "", "--kubeconfig", _cluster.Kubeconfig, "--report-status"],
            new Dictionary<string, string> { ["NODE_NAME"] = "worker-7" });

        run.ExitCode.Should().Be(0, run.ToString());
        var annotation = JsonNode.Parse(_cluster.NodeAnnotations("worker-7")![NodeReporter.AnnotationKey]!.GetValue<string>())!;
        annotation["result"]!.GetValue<string>().Should().Be("Applied");
        annotation["generations"]!["ImageDigestMirrorSet/digest"].Should().NotBeNull();
        annotation["hash"]!.GetValue<string>().Should().HaveLength(16);
        _cluster.Events().Should().ContainSingle().Which["reason"]!.GetValue<string>().Should().Be("RegistryConfigApplied");
    }

    [Fact]
    public void Report_status_sends_a_warning_for_invalid_input_and_writes_nothing_on_the_node()
    {
        _cluster.AddNode("worker-8");
        _cluster.Apply(Manifests.Idms("bad", "- source: quay.io/x\n  mirrors: [\"*.x/y\"]"));

        var run = Once("--kubeconfig", _cluster.Kubeconfig, "--node-name", "worker-8", "--report-status");

        run.ExitCode.Should().Be(2, run.ToString());
        Directory.Exists(Root).Should().BeFalse();
        var warning = _cluster.Events().Should().ContainSingle().Subject;
        warning["type"]!.GetValue<string>().Should().Be("Warning");
        warning["reason"]!.GetValue<string>().Should().Be("RegistryConfigInvalid");
        warning["message"]!.GetValue<string>().Should().Contain("ImageDigestMirrorSet/bad");
    }

    [Fact]
    public void Kubeconfig_may_come_from_the_KUBECONFIG_variable()
    {
        _cluster.Apply(Manifests.Image("insecureRegistries: [\"insecure.example\"]"));
        var run = NodeAgentProcess.Run(["--once", "--root", Root, "--reload-command", ""],
            new Dictionary<string, string> { ["KUBECONFIG"] = _cluster.Kubeconfig });
        run.ExitCode.Should().Be(0, run.ToString());
        File.ReadAllText(Path.Join(Root, "etc/containers/registries.conf")).Should().Contain("insecure.example");
    }

    [Fact]
    public async Task An_unreachable_server_is_exit_3_naming_it_and_nothing_is_written()
    {
        await _cluster.Server.GoAwayAsync();
        var run = Once("--kubeconfig", _cluster.Kubeconfig);
        run.ExitCode.Should().Be(3, run.ToString());
        run.Stderr.Should().Contain("error: cluster unreachable").And.Contain(_cluster.Server.Url.Authority);
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public void A_server_error_is_exit_3()
    {
        _cluster.Server.FailAll(503);
        var run = Once("--kubeconfig", _cluster.Kubeconfig);
        run.ExitCode.Should().Be(3, run.ToString());
        run.Stderr.Should().Contain("503");
    }

    [Fact]
    public void No_configured_cluster_is_exit_3_and_never_localhost()
    {
        var run = Once();
        run.ExitCode.Should().Be(3, run.ToString());
        run.Stderr.Should().Contain("--kubeconfig").And.Contain("KUBECONFIG").And.Contain("never guesses localhost");
    }

    [Fact]
    public void A_kubeconfig_that_cannot_be_used_is_exit_2_naming_the_file()
    {
        var bad = _work.Write("bad-kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n");
        var run = Once("--kubeconfig", bad);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Stderr.Should().Contain(bad);
        Directory.Exists(Root).Should().BeFalse();
    }

    [Fact]
    public void An_invalid_object_on_the_server_is_exit_2_and_nothing_is_written()
    {
        _cluster.Apply(Manifests.Idms("broken", "- source: registry.example/team@sha256:abc\n  mirrors: [\"mirror.example/x\"]"));
        var run = Once("--kubeconfig", _cluster.Kubeconfig);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Stderr.Should().Contain("ImageDigestMirrorSet/broken");
        Directory.Exists(Path.Join(Root, "etc")).Should().BeFalse();
    }

    [Fact]
    public void A_type_not_served_counts_as_empty_with_a_warning()
    {
        _cluster.Server.Unserve(ResourceType.ImageContentSourcePolicies.Path);
        _cluster.Apply(Manifests.Image("insecureRegistries: [\"insecure.example\"]"));
        var run = Once("--kubeconfig", _cluster.Kubeconfig);
        run.ExitCode.Should().Be(0, run.ToString());
        run.Stderr.Should().Contain("warning: ImageContentSourcePolicy: the API server does not serve /apis/operator.openshift.io/v1alpha1/imagecontentsourcepolicies");
    }
}
