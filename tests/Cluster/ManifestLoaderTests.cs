using System.Diagnostics;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Resources;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Cluster;

/// <summary>
/// <c>--manifests</c> loading, called directly: what is read, what is ignored, and how every
/// kind of bad input is reported (file, line, object, field, value, or the limit that was hit).
/// </summary>
public sealed class ManifestLoaderTests : IDisposable
{
    private const string ImageCluster = """
        apiVersion: config.openshift.io/v1
        kind: Image
        metadata:
          name: cluster
        spec:
          registrySources:
            insecureRegistries:
            - insecure.example.com
        """;

    /// <summary>The default CA ConfigMaps (cli.md settings CaNamespace and ManagedCaConfigMap).</summary>
    internal static readonly WatchScope Scope = new("openshift-config", "openshift-config-managed/image-registry-ca");

    private readonly TempRoot _dir = new("manifest-loader");

    public void Dispose() => _dir.Dispose();

    // ---- documents and files -------------------------------------------------------------

    [Fact]
    public void Multi_document_yaml_skips_empty_and_comment_only_documents()
    {
        _dir.Write("all.yaml", $"""
            # a comment before the first document
            ---
            ---
            # a document that is only a comment
            ---
            {Idms("first", "a.example.com/app", "m.example.net/app")}
            ---
            ...
            ---
            {Idms("second", "b.example.com/app", "m.example.net/b")}
            # trailing comment
            ---
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal("first", "second");
        result.Snapshot.ImageDigestMirrorSets[1].Spec!.ImageDigestMirrors![0]!.Mirrors.Should().Equal("m.example.net/b");
    }

    [Fact]
    public void An_error_in_a_later_document_names_its_own_line_and_the_document()
    {
        var file = _dir.Write("many.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: first
            ---
            # second document, starting on line 5
            apiVersion: config.openshift.io/v1
            kind: ClusterVersion
            metadata:
              name: version
            status:
              desired:
                image: [not, a, string]
            """);

        var result = Load();

        result.Errors.Should().ContainSingle().Which.Should().StartWith($"{file}:13 (document 2): ClusterVersion/version: status.desired.image: expected ").And.EndWith("got a list");
    }

    [Fact]
    public void A_json_file_holds_one_object_or_a_list()
    {
        _dir.Write("image.json", """
            {"apiVersion": "config.openshift.io/v1", "kind": "Image", "metadata": {"name": "cluster"},
             "spec": {"registrySources": {"blockedRegistries": ["blocked.example.com"]}}}
            """);
        _dir.Write("list.json", """
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "config.openshift.io/v1", "kind": "ImageTagMirrorSet", "metadata": {"name": "tags"},
               "spec": {"imageTagMirrors": [{"source": "src.example.com/app", "mirrors": ["m.example.net/app"], "mirrorSourcePolicy": "NeverContactSource"}]}},
              {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ignored"}}
            ]}
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Spec!.RegistrySources!.BlockedRegistries.Should().Equal("blocked.example.com");
        var itms = result.Snapshot.ImageTagMirrorSets.Should().ContainSingle().Subject;
        itms.Spec!.ImageTagMirrors![0]!.MirrorSourcePolicy.Should().Be(MirrorSourcePolicy.NeverContactSource);
        result.Ignored.Should().ContainSingle().Which.Should().Contain("list.json:4: items[1]").And.Contain("v1 Secret is not read");
    }

    [Fact]
    public void Kind_List_and_typed_lists_are_unpacked_item_by_item()
    {
        _dir.Write("list.yaml", $$"""
            apiVersion: v1
            kind: List
            items:
            - {{Flow(ImageCluster)}}
            - apiVersion: operator.openshift.io/v1alpha1
              kind: ImageContentSourcePolicy
              metadata: {name: icsp}
              spec:
                repositoryDigestMirrors:
                - {source: quay.io/ocp/release, mirrors: [mirror.example.com/ocp/release]}
            """);
        _dir.Write("typed.yaml", """
            apiVersion: config.openshift.io/v1
            kind: ImageDigestMirrorSetList
            metadata: {}
            items:
            - apiVersion: config.openshift.io/v1
              kind: ImageDigestMirrorSet
              metadata: {name: one}
              spec: {imageDigestMirrors: [{source: one.example.com/a, mirrors: [m.example.net/a]}]}
            - apiVersion: config.openshift.io/v1
              kind: ImageDigestMirrorSet
              metadata: {name: two}
              spec: {imageDigestMirrors: [{source: two.example.com/b, mirrors: [m.example.net/b]}]}
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Name.Should().Be("cluster");
        result.Snapshot.ImageContentSourcePolicies.Select(o => o.Name).Should().Equal("icsp");
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal("one", "two");
    }

    [Fact]
    public void A_bad_list_item_is_named_by_its_index()
    {
        var file = _dir.Write("list.yaml", """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: config.openshift.io/v1
              kind: ImageDigestMirrorSet
              metadata: {name: fine}
            - apiVersion: config.openshift.io/v1
              kind: ImageDigestMirrorSet
              metadata: {name: broken}
              spec: {imageDigestMirrors: {source: not-a-list}}
            """);

        var result = Load();

        result.Errors.Should().ContainSingle().Which.Should().Be(
            $"{file}:10: items[1]: ImageDigestMirrorSet/broken: spec.imageDigestMirrors: expected a list, got an object");
    }

    [Fact]
    public void List_items_that_are_not_objects_are_an_error()
    {
        var file = _dir.Write("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- just a string\n");

        Load().Errors.Should().ContainSingle().Which.Should().Be($"{file}:4: items[0]: expected an object");
    }

    [Theory]
    [InlineData("a scalar document\n")]
    [InlineData("- a\n- b\n")]
    [InlineData("--- 5000\n")]
    public void A_document_that_is_not_an_object_is_an_error(string text)
    {
        var file = _dir.Write("odd.yaml", text);

        Load().Errors.Should().ContainSingle().Which.Should().Be($"{file}:1: a manifest document must be an object (a Kubernetes object or a List)");
    }

    // ---- directory trees -----------------------------------------------------------------

    [Fact]
    public void A_directory_tree_is_read_recursively_and_other_files_are_ignored()
    {
        _dir.Write("image.yaml", ImageCluster);
        _dir.Write("mirrors/digest/idms.yml", Idms("deep", "a.example.com/app", "m.example.net/app"));
        _dir.Write("mirrors/tags.JSON", """{"apiVersion":"config.openshift.io/v1","kind":"ImageTagMirrorSet","metadata":{"name":"upper-case-extension"}}""");
        _dir.Write("README.md", "apiVersion: [this would not parse");
        _dir.Write("notes.txt", "{ not json");
        _dir.Write("mirrors/idms.yaml.bak", Idms("backup", "a.example.com/app", "m.example.net/app"));
        _dir.Write("mirrors/idms.yaml~", "apiVersion: [editor backup");

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image.Should().NotBeNull();
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal("deep");
        result.Snapshot.ImageTagMirrorSets.Select(o => o.Name).Should().Equal("upper-case-extension");
    }

    [Fact]
    public void A_mounted_configmap_directory_is_read_once_through_its_visible_names()
    {
        // What the kubelet makes of a ConfigMap volume: the real files in a timestamped
        // "..<date>" directory, "..data" pointing at it, and one visible symlink per key.
        _dir.Write("..2024_05_01_10_00_00.000000001/image.yaml", ImageCluster);
        _dir.Write("..2024_05_01_10_00_00.000000001/idms.yaml", Idms("mounted", "a.example.com/app", "m.example.net/app"));
        _dir.Write("..2024_04_30_09_00_00.000000001/idms.yaml", "apiVersion: [a stale generation being removed");
        File.CreateSymbolicLink(_dir.File("..data"), "..2024_05_01_10_00_00.000000001");
        File.CreateSymbolicLink(_dir.File("image.yaml"), "..data/image.yaml");
        File.CreateSymbolicLink(_dir.File("idms.yaml"), "..data/idms.yaml");

        var result = Load();

        // Reading any ".." entry would load each object twice: a duplicate error.
        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Name.Should().Be("cluster");
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal("mounted");
    }

    [Fact]
    public void A_symlinked_directory_is_not_entered_so_a_link_cycle_cannot_loop()
    {
        _dir.Write("real/idms.yaml", Idms("once", "a.example.com/app", "m.example.net/app"));
        Directory.CreateSymbolicLink(_dir.File("real/loop"), _dir.Path);
        Directory.CreateSymbolicLink(_dir.File("alias"), _dir.File("real"));

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal("once");
    }

    [Fact]
    public void Files_load_in_ordinal_path_order_whatever_the_directory_listing_order()
    {
        foreach (var relative in new[] { "b.yaml", "a/z.yaml", "a.yaml", "C.yaml", "a/b/y.yaml", "a-b.yaml" })
        {
            _dir.Write(relative, Idms(relative.Replace('/', '-').Replace('.', '-').ToLowerInvariant(), $"{relative.Length}.example.com/x", "m.example.net/x"));
        }

        var result = Load();

        result.Errors.Should().BeEmpty();
        // Ordinal: upper case before lower case, "-" (0x2D) < "." (0x2E) < "/" (0x2F).
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal(
            "c-yaml", "a-b-yaml", "a-yaml", "a-b-y-yaml", "a-z-yaml", "b-yaml");
    }

    [Fact]
    public async Task A_fifo_named_like_a_manifest_neither_hangs_nor_is_read_unbounded()
    {
        var fifo = _dir.File("pipe.yaml");
        NodeAgentProcess.RunProgram("mkfifo", [fifo]).ExitCode.Should().Be(0);

        var load = Task.Run(() => Load());
        var finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10))) == load;
        if (!finished)
        {
            // Give the blocked reader its end of file, so no thread is left hanging in the test host.
            await using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
            }
            await load;
        }

        finished.Should().BeTrue("a manifest that is not a regular file must fail fast, not block");
        (await load).Errors.Should().ContainSingle().Which.Should().StartWith(fifo);
    }

    [Fact]
    public void Items_of_a_typed_list_without_their_own_kind_take_it_from_the_list()
    {
        _dir.Write("raw-list.yaml", """
            apiVersion: config.openshift.io/v1
            kind: ImageDigestMirrorSetList
            metadata: {resourceVersion: "12345"}
            items:
            - metadata: {name: from-the-api}
              spec: {imageDigestMirrors: [{source: a.example.com/app, mirrors: [m.example.net/app]}]}
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.ImageDigestMirrorSets.Select(o => o.Name).Should().Equal("from-the-api");
    }

    [Fact]
    public void A_single_file_is_read_whatever_its_extension()
    {
        var file = _dir.Write("manifests.txt", ImageCluster);

        var result = ManifestLoader.Load(file, ManifestLimits.Default, Scope);

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image.Should().NotBeNull();
    }

    [Fact]
    public void A_missing_path_is_an_error()
    {
        var missing = _dir.File("nope");

        ManifestLoader.Load(missing, ManifestLimits.Default, Scope).Errors.Should().Equal($"{missing}: --manifests: no such file or directory");
    }

    // ---- which objects count -------------------------------------------------------------

    [Fact]
    public void Only_the_Image_named_cluster_and_the_ClusterVersion_named_version_count()
    {
        _dir.Write("objects.yaml", $$$"""
            {{{ImageCluster.Replace("name: cluster", "name: not-cluster", StringComparison.Ordinal)}}}
            ---
            apiVersion: config.openshift.io/v1
            kind: ClusterVersion
            metadata: {name: other}
            status: {desired: {image: quay.io/example/other@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}}
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image.Should().BeNull();
        result.Snapshot.ClusterVersion.Should().BeNull();
        result.Ignored.Should().HaveCount(2)
            .And.Contain(i => i.Contains("Image/not-cluster is ignored: only the object named \"cluster\" is read", StringComparison.Ordinal))
            .And.Contain(i => i.Contains("ClusterVersion/other is ignored: only the object named \"version\" is read", StringComparison.Ordinal));
    }

    [Fact]
    public void An_ignored_Image_does_not_collide_with_the_cluster_one_or_hide_it()
    {
        _dir.Write("a.yaml", ImageCluster.Replace("name: cluster", "name: other", StringComparison.Ordinal));
        _dir.Write("b.yaml", ImageCluster);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Name.Should().Be("cluster");
    }

    [Fact]
    public void Unrelated_kinds_are_ignored_without_decoding_them()
    {
        _dir.Write("other.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app}
            spec: {registrySources: "would be a type error on an Image"}
            ---
            apiVersion: machineconfiguration.openshift.io/v1
            kind: MachineConfig
            metadata: {name: 99-worker}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: pull-secret, namespace: openshift-config}
            ---
            metadata: {name: no-kind-at-all}
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Should().BeEquivalentTo(ClusterSnapshot.Empty);
        result.Ignored.Should().HaveCount(4).And.Contain(i => i.EndsWith("(no apiVersion) (no kind) is not read by node-agent", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("config.openshift.io/v2", "Image", "config.openshift.io/v1", "a future version of the same group is not served")]
    [InlineData("config.openshift.io/v1alpha1", "Image", "config.openshift.io/v1", "a pre-release version")]
    [InlineData("operator.openshift.io/v1", "ImageContentSourcePolicy", "operator.openshift.io/v1alpha1", "ICSP is served at v1alpha1 only")]
    [InlineData("config.openshift.io/v1beta1", "ImageDigestMirrorSet", "config.openshift.io/v1", "IDMS in another version")]
    [InlineData("v2", "ConfigMap", "v1", "the core group has v1 only")]
    [InlineData("config.openshift.io", "Image", "config.openshift.io/v1", "a group without its version")]
    [InlineData("config.openshift.io/v1", "ImageContentSourcePolicy", "operator.openshift.io/v1alpha1", "ICSP lives in operator.openshift.io")]
    [InlineData("operator.openshift.io/v1alpha1", "ImageDigestMirrorSet", "config.openshift.io/v1", "IDMS lives in config.openshift.io")]
    [InlineData("operator.openshift.io/v1", "Image", "config.openshift.io/v1", "the cluster Image is in the config group")]
    [InlineData("config.openshfit.io/v1", "ImageTagMirrorSet", "config.openshift.io/v1", "two letters swapped in the group")]
    public void Another_version_or_group_of_a_kind_node_agent_reads_is_invalid_with_the_right_one_suggested(
        string apiVersion, string kind, string suggested, string reason)
    {
        var file = _dir.Write("obj.yaml", $"kind: {kind}\napiVersion: {apiVersion}\nmetadata: {{name: cluster, namespace: openshift-config}}\n");

        var result = Load();

        result.Errors.Should().ContainSingle(reason).Which.Should()
            .StartWith($"{file}:2: {kind}/cluster: apiVersion: \"{apiVersion}\": ").And.EndWith($"; did you mean \"{suggested}\"?");
        result.Snapshot.Should().BeEquivalentTo(ClusterSnapshot.Empty, reason);
    }

    [Theory]
    [InlineData("image", "Image", "another case")]
    [InlineData("Images", "Image", "a plural")]
    [InlineData("ImageDigestMirrorset", "ImageDigestMirrorSet", "one letter's case")]
    [InlineData("ImageTagMirorSet", "ImageTagMirrorSet", "a letter dropped")]
    [InlineData("ClusterVersoin", "ClusterVersion", "two letters swapped")]
    [InlineData("ImageContentSourcePolicies", "ImageContentSourcePolicy", "the -ies plural")]
    public void A_kind_a_slip_away_from_one_node_agent_reads_is_invalid_with_the_kind_suggested(string kind, string suggested, string reason)
    {
        var group = suggested == "ImageContentSourcePolicy" ? "operator.openshift.io/v1alpha1" : "config.openshift.io/v1";
        var file = _dir.Write("obj.yaml", $"apiVersion: {group}\nkind: {kind}\nmetadata: {{name: cluster}}\n");

        Load().Errors.Should().Equal([$"{file}:2: {kind}/cluster: kind: \"{kind}\" is not a kind node-agent reads; did you mean \"{suggested}\"?"], reason);
    }

    [Theory]
    [InlineData("v1", "Image", "the core group has no Image")]
    [InlineData("image.openshift.io/v1", "Image", "image.openshift.io Image is an image stream image, not the cluster config")]
    [InlineData("config.openshift.io.example.com/v1", "Image", "a group that merely starts with the right one")]
    [InlineData("apps/v1", "ConfigMap", "ConfigMap is in the core group only")]
    [InlineData("config.openshift.io/v1", "ImagePolicy", "another kind of the same group, far from every kind read")]
    [InlineData("config.openshift.io/v1", "ImageContentPolicy", "the config group's own ImageContentPolicy is not the ICSP")]
    [InlineData("image.openshift.io/v1", "ImageStream", "an image stream")]
    public void Objects_of_other_groups_are_ignored(string apiVersion, string kind, string reason)
    {
        _dir.Write("obj.yaml", $"apiVersion: {apiVersion}\nkind: {kind}\nmetadata: {{name: cluster, namespace: openshift-config}}\n");

        var result = Load();

        result.Errors.Should().BeEmpty(reason);
        result.Snapshot.Should().BeEquivalentTo(ClusterSnapshot.Empty, reason);
        result.Ignored.Should().ContainSingle(reason).Which.Should().EndWith($"{apiVersion} {kind} is not read by node-agent");
    }

    // ---- strict fields and near misses ---------------------------------------------------

    [Fact]
    public void An_unknown_field_anywhere_names_its_line_and_path_and_suggests_the_close_one()
    {
        var file = _dir.Write("idms.yaml", """
            apiVersion: config.openshift.io/v1
            kind: ImageDigestMirrorSet
            metdata:
              name: m
            spec:
              imageDigestMirrors:
              - source: quay.io/team/app
                mirror: [mirror.example.com/app]
            """);

        Load().Errors.Should().Equal(
            $"{file}:3: ImageDigestMirrorSet: metdata: unknown field \"metdata\" at the top level; did you mean \"metadata\"?",
            $"{file}:8: ImageDigestMirrorSet: spec.imageDigestMirrors[0].mirror: unknown field \"mirror\" in spec.imageDigestMirrors[0]; did you mean \"mirrors\"?");
    }

    [Fact]
    public void An_object_exported_from_a_live_cluster_loads_as_it_is()
    {
        _dir.Write("image.yaml", """
            apiVersion: config.openshift.io/v1
            kind: Image
            metadata:
              name: cluster
              uid: 5b1e0c7e-2f6b-4a59-9d38-1f0c2a7d9e11
              resourceVersion: "48213"
              generation: 3
              creationTimestamp: "2026-11-20T10:00:00Z"
              annotations: {release.openshift.io/create-only: "true"}
              ownerReferences: [{apiVersion: config.openshift.io/v1, kind: ClusterVersion, name: version, uid: x}]
              managedFields:
              - {manager: cluster-version-operator, operation: Update, apiVersion: config.openshift.io/v1, time: "2026-11-20T10:00:00Z", fieldsType: FieldsV1, fieldsV1: {"f:spec": {}}}
            spec:
              externalRegistryHostnames: [registry.apps.example.com]
              allowedRegistriesForImport: [{domainName: quay.io, insecure: false}]
              registrySources: {insecureRegistries: [insecure.example.com]}
            status:
              internalRegistryHostname: image-registry.openshift-image-registry.svc:5000
              anything: {the: [server, wrote]}
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Spec!.RegistrySources!.InsecureRegistries.Should().Equal("insecure.example.com");
    }

    [Theory]
    [InlineData("Cluster", "another case")]
    [InlineData("\"cluster \"", "a trailing space")]
    [InlineData("clustr", "a letter dropped")]
    public void An_image_named_a_slip_away_from_cluster_is_invalid(string name, string reason)
    {
        var file = _dir.Write("image.yaml", $"apiVersion: config.openshift.io/v1\nkind: Image\nmetadata:\n  name: {name}\nspec: {{}}\n");

        Load().Errors.Should().ContainSingle(reason).Which.Should().StartWith($"{file}:4: Image/").And.EndWith("; did you mean \"cluster\"?");
    }

    [Fact]
    public void The_trusted_ca_configmap_must_have_the_name_and_namespace_the_image_gives()
    {
        var image = _dir.Write("image.yaml", "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  additionalTrustedCA:\n    name: user-ca\n");
        var slip = _dir.Write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: user_ca\n  namespace: openshift-config\ndata: {}\n");
        var bare = _dir.Write("b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: user-ca\ndata: {}\n");
        var elsewhere = _dir.Write("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: user-ca\n  namespace: openshift_config\ndata: {}\n");
        _dir.Write("d.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-settings\n  namespace: my-app\ndata: {}\n");

        var errors = Load().Errors;

        errors.Should().HaveCount(3, "the ConfigMap of another namespace is ignored");
        errors.Should().Contain(e => e.StartsWith($"{elsewhere}:5: ConfigMap/openshift_config/user-ca: metadata.namespace: ", StringComparison.Ordinal) && e.EndsWith("did you mean \"openshift-config\"?", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith($"{slip}:4: ConfigMap/openshift-config/user_ca: metadata.name: Image/cluster spec.additionalTrustedCA.name is \"user-ca\" ({image}:6)", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith($"{bare}:4: ConfigMap/user-ca: metadata.namespace: missing;", StringComparison.Ordinal) && e.EndsWith("did you mean namespace: openshift-config?", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_image_configuration_counts_as_input_a_lone_ca_configmap_does_not()
    {
        _dir.Write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: user-ca, namespace: openshift-config}\ndata: {}\n");
        _dir.Write("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n");
        Load().HasImageConfiguration(Scope).Should().BeFalse();

        _dir.Write("managed.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: image-registry-ca, namespace: openshift-config-managed}\ndata: {}\n");
        Load().HasImageConfiguration(Scope).Should().BeTrue("the managed registry CA is written without an Image");
    }

    // ---- duplicates ----------------------------------------------------------------------

    [Fact]
    public void The_same_object_in_two_files_is_an_error_naming_both_files()
    {
        var first = _dir.Write("a/idms.yaml", Idms("same", "a.example.com/app", "m.example.net/app"));
        var second = _dir.Write("b/idms.yaml", "# moved down a line\n" + Idms("same", "b.example.com/app", "m.example.net/b"));

        var result = Load();

        result.Errors.Should().ContainSingle().Which.Should().Be(
            $"{second}:2: ImageDigestMirrorSet/same is defined twice, here and in {first}:1");
    }

    [Fact]
    public void The_Image_in_a_list_and_in_a_file_is_a_duplicate_and_a_configmap_is_keyed_by_namespace()
    {
        var list = _dir.Write("a-list.yaml", $"apiVersion: v1\nkind: List\nitems:\n- {Flow(ImageCluster)}\n");
        var file = _dir.Write("b-image.yaml", ImageCluster);
        _dir.Write("c-configmaps.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: ca, namespace: openshift-config}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: image-registry-ca, namespace: openshift-config-managed}
            """);

        var result = Load();

        result.Errors.Should().ContainSingle().Which.Should().Be($"{file}:1: Image/cluster is defined twice, here and in {list}:4: items[0]");
        result.Snapshot.ConfigMaps.Select(c => c.Namespace + "/" + c.Name).Should().Equal("openshift-config/ca", "openshift-config-managed/image-registry-ca");
    }

    [Fact]
    public void The_same_configmap_twice_names_its_namespace()
    {
        var file = _dir.Write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: ca, namespace: openshift-config}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: ca, namespace: openshift-config}
            """);

        // A document's line is the line of its "---"; in a file of several, each is named.
        Load().Errors.Should().ContainSingle().Which.Should().Be($"{file}:4 (document 2): ConfigMap/openshift-config/ca is defined twice, here and in {file}:1 (document 1)");
    }

    // ---- field types ---------------------------------------------------------------------

    [Theory]
    [InlineData("apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources:\n    insecureRegistries: reg.example.com\n",
        "Image/cluster: spec.registrySources.insecureRegistries", "a list", "the string \"reg.example.com\"", 6)]
    [InlineData("apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec: {additionalTrustedCA: {name: 12}}\n",
        "Image/cluster: spec.additionalTrustedCA.name", null, "12", 4)]
    [InlineData("apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: d}\nspec:\n  imageDigestMirrors:\n  - source: a.example.com/app\n    mirrors: [m.example.net/app, 5000]\n",
        "ImageDigestMirrorSet/d: spec.imageDigestMirrors[0].mirrors[1]", "a string", "5000", 7)]
    [InlineData("apiVersion: operator.openshift.io/v1alpha1\nkind: ImageContentSourcePolicy\nmetadata: {name: i}\nspec:\n  repositoryDigestMirrors:\n  - source: {host: a.example.com}\n",
        "ImageContentSourcePolicy/i: spec.repositoryDigestMirrors[0].source", null, "an object", 6)]
    [InlineData("apiVersion: config.openshift.io/v1\nkind: ImageTagMirrorSet\nmetadata: {name: t}\nspec:\n  imageTagMirrors:\n  - source: a.example.com/app\n    mirrorSourcePolicy: true\n",
        "ImageTagMirrorSet/t: spec.imageTagMirrors[0].mirrorSourcePolicy", null, "true", 7)]
    [InlineData("apiVersion: config.openshift.io/v1\nkind: ClusterVersion\nmetadata: {name: version}\nstatus: {desired: {image: 1.5}}\n",
        "ClusterVersion/version: status.desired.image", null, "1.5", 4)]
    [InlineData("apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: d}\nspec: {imageDigestMirrors: [just-a-string]}\n",
        "ImageDigestMirrorSet/d: spec.imageDigestMirrors[0]", "an object", "the string \"just-a-string\"", 4)]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: openshift-config}\ndata: [a, b]\n",
        "ConfigMap/ca: data", "a map of strings", "a list", 4)]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: openshift-config}\ndata: {ca.crt: {nested: map}}\n",
        "ConfigMap/ca: data['ca.crt']", "a string", "an object", 4)]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: openshift-config}\nbinaryData: {ca.crt: 42}\n",
        "ConfigMap/ca: binaryData['ca.crt']", "base64 data", "42", 4)]
    public void A_field_of_the_wrong_type_names_file_line_object_field_and_value(string yaml, string objectAndField, string? expectedType, string actual, int line)
    {
        var file = _dir.Write("bad.yaml", "# leading comment\n---\n" + yaml);

        var result = Load();

        // expectedType null: the type named is wrong today for a scalar property (see the skipped
        // test below), so only the rest of the message is pinned.
        var message = result.Errors.Should().ContainSingle().Subject;
        // The line is the field's own, below the two lines put in front of the document.
        message.Should().StartWith($"{file}:{line + 2}: {objectAndField}: expected {expectedType}").And.Contain(", got ").And.Contain(actual);
        result.Snapshot.Should().BeEquivalentTo(ClusterSnapshot.Empty, "an object that does not decode is not read");
    }

    [Fact]
    public void A_scalar_of_the_wrong_type_says_what_was_expected_and_shows_the_value_as_written()
    {
        var file = _dir.Write("cv.yaml", "apiVersion: config.openshift.io/v1\nkind: ClusterVersion\nmetadata: {name: version}\nstatus: {desired: {image: 1.5}}\n");

        Load().Errors.Should().Equal($"{file}:4: ClusterVersion/version: status.desired.image: expected a string, got 1.5");
    }

    [Fact]
    public void A_name_of_the_wrong_type_keeps_the_error_on_one_line()
    {
        _dir.Write("image.yaml", "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: [cluster]}\n");

        Load().Errors.Should().ContainSingle().Which.Should().NotContain("\n").And.Contain("metadata.name: expected a string, got a list");
    }

    [Fact]
    public void An_object_without_a_name_is_an_error()
    {
        var file = _dir.Write("noname.yaml", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {namespace: x}\n");

        Load().Errors.Should().Equal($"{file}:1: ImageDigestMirrorSet: metadata.name: required");
    }

    [Fact]
    public void Every_bad_object_is_reported_not_just_the_first()
    {
        var a = _dir.Write("a.yaml", "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata: {name: a}\nspec: 5\n");
        var b = _dir.Write("b.yaml", "apiVersion: config.openshift.io/v1\nkind: ImageTagMirrorSet\nmetadata: {name: b}\nspec: {imageTagMirrors: 5}\n");

        var errors = Load().Errors;

        errors.Should().HaveCount(2);
        errors[0].Should().StartWith($"{a}:4: ImageDigestMirrorSet/a: spec: expected an object, got ");
        errors[1].Should().StartWith($"{b}:4: ImageTagMirrorSet/b: spec.imageTagMirrors: expected a list, got ");
    }

    // ---- syntax --------------------------------------------------------------------------

    [Fact]
    public void A_yaml_syntax_error_names_file_and_line()
    {
        var file = _dir.Write("broken.yaml", """
            apiVersion: config.openshift.io/v1
            kind: Image
            metadata:
              name: "cluster
            spec: {}
            """);

        Load().Errors.Should().ContainSingle().Which.Should().StartWith($"{file}:4: invalid YAML: ");
    }

    [Fact]
    public void A_yaml_error_in_a_later_document_names_its_own_line()
    {
        var file = _dir.Write("broken.yaml", $"{ImageCluster}\n---\napiVersion: v1\nkind: ConfigMap\n  bad: indentation\n");

        Load().Errors.Should().ContainSingle().Which.Should().StartWith($"{file}:12: invalid YAML: ");
    }

    [Fact]
    public void A_duplicate_yaml_key_is_an_error_naming_the_key_and_its_line()
    {
        var file = _dir.Write("dup.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: openshift-config}\ndata:\n  ca.crt: one\n  ca.crt: two\n");

        Load().Errors.Should().Equal($"{file}:6: duplicate key \"ca.crt\"");
    }

    [Fact]
    public void A_json_syntax_error_names_file_and_line()
    {
        var file = _dir.Write("broken.json", "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\"\n  \"metadata\": {}\n}\n");

        Load().Errors.Should().ContainSingle().Which.Should().StartWith($"{file}:4: invalid JSON: ");
    }

    [Fact]
    public void A_duplicate_json_key_is_an_error_not_a_crash()
    {
        var file = _dir.Write("dup.json", """{"apiVersion": "config.openshift.io/v1", "kind": "Image", "metadata": {"name": "cluster"}, "metadata": {"name": "other"}}""");

        var result = Load();

        result.Errors.Should().ContainSingle().Which.Should().StartWith($"{file}:1: ").And.Contain("metadata");
    }

    [Fact]
    public void Text_that_is_not_utf8_is_an_error()
    {
        var file = _dir.File("latin1.yaml");
        File.WriteAllBytes(file, [.. "apiVersion: v1\nkind: ConfigMap\ndata: {k: caf"u8, 0xE9, (byte)'}', (byte)'\n']);

        Load().Errors.Should().Equal($"{file}: the file is not valid UTF-8 text");
    }

    // ---- limits --------------------------------------------------------------------------

    [Fact]
    public void A_file_over_the_size_limit_is_refused_naming_the_limit()
    {
        var file = _dir.Write("big.yaml", ImageCluster + "\n# " + new string('x', 2000) + "\n");
        var size = new FileInfo(file).Length;

        var over = Load(new ManifestLimits(size - 1, ManifestLimits.DefaultMaxDepth));
        var at = Load(new ManifestLimits(size, ManifestLimits.DefaultMaxDepth));

        over.Errors.Should().Equal($"{file}: the file is {size} bytes, over the limit of {size - 1} (MaxManifestBytes)");
        over.Snapshot.Image.Should().BeNull();
        at.Errors.Should().BeEmpty("a file exactly at the limit is fine");
        at.Snapshot.Image.Should().NotBeNull();
    }

    [Fact]
    public void Yaml_nested_past_the_depth_limit_is_refused_naming_the_limit()
    {
        var file = _dir.Write("deep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: " + new string('[', 40) + new string(']', 40) + "\n");

        var result = Load(new ManifestLimits(ManifestLimits.DefaultMaxFileBytes, 10));

        result.Errors.Should().ContainSingle().Which.Should().Be($"{file}:4: YAML nested deeper than 10 levels (MaxYamlDepth)");
    }

    [Fact]
    public void Json_nested_past_the_depth_limit_is_refused_naming_the_limit()
    {
        var file = _dir.Write("deep.json", "{\"data\":\n" + new string('[', 40) + new string(']', 40) + "}\n");

        var result = Load(new ManifestLimits(ManifestLimits.DefaultMaxFileBytes, 10));

        result.Errors.Should().ContainSingle().Which.Should().Be($"{file}:2: JSON nested deeper than 10 levels (MaxYamlDepth)");
    }

    [Fact]
    public void The_default_depth_limit_leaves_real_manifests_alone()
    {
        // 20 levels: far deeper than any Kubernetes object node-agent reads.
        _dir.Write("ok.yaml", ImageCluster + "\nstatus:\n  extra: " + new string('[', 20) + new string(']', 20) + "\n");

        Load().Errors.Should().BeEmpty();
    }

    [Fact]
    public void The_depth_limit_means_the_same_for_yaml_and_json()
    {
        _dir.Write("a.json", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}""");
        _dir.Write("b.yaml", "{apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n");

        Load(new ManifestLimits(ManifestLimits.DefaultMaxFileBytes, 2)).Errors.Should().BeEmpty();
    }

    [Fact]
    public void An_alias_bomb_stops_at_the_expansion_budget_quickly()
    {
        var bomb = new System.Text.StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i <= 9; i++)
        {
            bomb.Append(System.Globalization.CultureInfo.InvariantCulture, $"x{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }
        var file = _dir.Write("bomb.yaml", bomb.ToString());
        var clock = Stopwatch.StartNew();

        var result = Load();

        result.Errors.Should().ContainSingle().Which.Should().StartWith($"{file}:")
            .And.EndWith($"the file expands to more than {ManifestLimits.MaxNodesPerFile} YAML nodes (alias expansion budget)");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the budget is checked before an alias is copied");
    }

    [Fact]
    public void Ordinary_anchors_and_aliases_are_expanded()
    {
        _dir.Write("anchors.yaml", """
            apiVersion: config.openshift.io/v1
            kind: ImageDigestMirrorSet
            metadata: {name: anchors}
            spec:
              imageDigestMirrors:
              - source: a.example.com/app
                mirrors: &shared [m1.example.net/app, m2.example.net/app]
              - source: b.example.com/app
                mirrors: *shared
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.ImageDigestMirrorSets[0].Spec!.ImageDigestMirrors![1]!.Mirrors.Should().Equal("m1.example.net/app", "m2.example.net/app");
    }

    [Fact]
    public void Merge_keys_are_refused_rather_than_misread()
    {
        var file = _dir.Write("merge.yaml", "base: &b {a: 1}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: *b\n  name: x\n");

        Load().Errors.Should().Equal($"{file}:5: YAML merge keys (<<) are not supported in manifests");
    }

    // ---- scalars -------------------------------------------------------------------------

    [Theory]
    [InlineData("\"5000\"", "5000")]
    [InlineData("'5000'", "5000")]
    [InlineData("!!str 5000", "5000")]
    [InlineData("\"true\"", "true")]
    [InlineData("\"null\"", "null")]
    [InlineData("yes", "yes")]
    [InlineData("0x1F", "0x1F")]
    [InlineData("registry.example.com:5000", "registry.example.com:5000")]
    [InlineData("\"registry.example.com\"", "registry.example.com")]
    public void A_string_field_takes_quoted_scalars_and_plain_non_numbers_as_written(string scalar, string expected)
    {
        _dir.Write("image.yaml", ImageCluster.Replace("- insecure.example.com", "- " + scalar, StringComparison.Ordinal));

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Spec!.RegistrySources!.InsecureRegistries.Should().Equal(expected);
    }

    [Theory]
    [InlineData("5000", "5000")]
    [InlineData("-1", "-1")]
    [InlineData("1.5", "1.5")]
    [InlineData("1e3", "1000")]
    [InlineData("true", "true")]
    [InlineData("False", "false")]
    public void A_plain_number_or_boolean_in_a_string_field_is_a_type_error(string scalar, string shown)
    {
        var file = _dir.Write("image.yaml", ImageCluster.Replace("- insecure.example.com", "- " + scalar, StringComparison.Ordinal));

        // The value is shown quoted today (got "5000"), which reads like a string: see the skipped test above.
        Load().Errors.Should().ContainSingle().Which.Should()
            .StartWith($"{file}:8: Image/cluster: spec.registrySources.insecureRegistries[0]: expected a string, got ").And.Contain(shown);
    }

    [Fact]
    public void Mapping_keys_stay_strings_as_written()
    {
        _dir.Write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: ca, namespace: openshift-config}
            data:
              5000: plain number key
              true: plain boolean key
              registry.example.com..5000: the certs.d key form
              null: plain null key
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.ConfigMaps.Single().Data.Should().BeEquivalentTo(new Dictionary<string, string?>
        {
            ["5000"] = "plain number key",
            ["true"] = "plain boolean key",
            ["registry.example.com..5000"] = "the certs.d key form",
            ["null"] = "plain null key",
        });
    }

    [Fact]
    public void Block_scalars_keep_their_text()
    {
        _dir.Write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: ca, namespace: openshift-config}
            data:
              literal: |
                -----BEGIN CERTIFICATE-----
                MIIB
                -----END CERTIFICATE-----
              folded: >-
                one
                two
            """);

        var data = Load().Snapshot.ConfigMaps.Single().Data!;

        data["literal"].Should().Be("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        data["folded"].Should().Be("one two");
    }

    // ---- ConfigMaps ----------------------------------------------------------------------

    [Fact]
    public void Configmap_data_is_text_and_binaryData_is_base64_decoded()
    {
        byte[] binary = [0x00, 0x01, 0xFE, 0xFF, (byte)'P', (byte)'E', (byte)'M'];
        _dir.Write("cm.yaml", $$"""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: user-ca, namespace: openshift-config}
            data:
              registry.example.com: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
            binaryData:
              registry.example.com..5000: {{Convert.ToBase64String(binary)}}
              empty: ""
            """);

        var result = Load();

        result.Errors.Should().BeEmpty();
        var configMap = result.Snapshot.ConfigMaps.Should().ContainSingle().Subject;
        configMap.Namespace.Should().Be("openshift-config");
        configMap.Data!["registry.example.com"].Should().Be("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        configMap.BinaryData!["registry.example.com..5000"].Should().Equal(binary);
        configMap.BinaryData["empty"].Should().BeEmpty();
    }

    [Fact]
    public void Configmap_binaryData_that_is_not_base64_is_a_type_error()
    {
        var file = _dir.Write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: openshift-config}\nbinaryData:\n  ca.crt: not*base64!\n");

        Load().Errors.Should().Equal($"{file}:5: ConfigMap/ca: binaryData['ca.crt']: expected base64 data, got the string \"not*base64!\"");
    }

    [Fact]
    public void Configmap_binaryData_wrapped_over_lines_is_accepted_as_kubernetes_does()
    {
        var wrapped = Convert.ToBase64String(new byte[120], Base64FormattingOptions.InsertLineBreaks).Replace("\r", "", StringComparison.Ordinal);
        _dir.Write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: openshift-config}\nbinaryData:\n  ca.crt: |\n    "
            + wrapped.Replace("\n", "\n    ", StringComparison.Ordinal) + "\n");

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.ConfigMaps.Single().BinaryData!["ca.crt"].Should().Equal(new byte[120]);
    }

    // ---- null versus empty ---------------------------------------------------------------

    [Theory]
    [InlineData("", null, "absent")]
    [InlineData("    containerRuntimeSearchRegistries:\n", null, "key without a value is null")]
    [InlineData("    containerRuntimeSearchRegistries: ~\n", null, "~ is null")]
    [InlineData("    containerRuntimeSearchRegistries: null\n", null, "null is null")]
    [InlineData("    containerRuntimeSearchRegistries: []\n", new string[0], "an empty list stays an empty list")]
    [InlineData("    containerRuntimeSearchRegistries:\n    - search.example.com\n", new[] { "search.example.com" }, "a list")]
    public void Search_registries_absent_or_null_stay_null_and_an_empty_list_stays_empty(string yaml, string[]? expected, string reason)
    {
        _dir.Write("image.yaml", "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources:\n    blockedRegistries: [b.example.com]\n" + yaml);

        var result = Load();

        result.Errors.Should().BeEmpty(reason);
        var search = result.Snapshot.Image!.Spec!.RegistrySources!.ContainerRuntimeSearchRegistries;
        if (expected is null)
        {
            search.Should().BeNull(reason);
        }
        else
        {
            search.Should().NotBeNull(reason).And.Equal(expected, reason);
        }
    }

    [Theory]
    [InlineData("null", null)]
    [InlineData("[]", new string[0])]
    public void Json_null_and_empty_lists_are_told_apart_too(string json, string[]? expected)
    {
        _dir.Write("image.json", """{"apiVersion":"config.openshift.io/v1","kind":"Image","metadata":{"name":"cluster"},"spec":{"registrySources":{"containerRuntimeSearchRegistries":""" + json + "}}}");

        var search = Load().Snapshot.Image!.Spec!.RegistrySources!.ContainerRuntimeSearchRegistries;

        if (expected is null)
        {
            search.Should().BeNull();
        }
        else
        {
            search.Should().NotBeNull().And.BeEmpty();
        }
    }

    [Fact]
    public void A_null_registrySources_is_no_registry_sources()
    {
        _dir.Write("image.yaml", "apiVersion: config.openshift.io/v1\nkind: Image\nmetadata: {name: cluster}\nspec:\n  registrySources:\n");

        var result = Load();

        result.Errors.Should().BeEmpty();
        result.Snapshot.Image!.Spec!.RegistrySources.Should().BeNull();
    }

    // ---- helpers -------------------------------------------------------------------------

    private ManifestLoadResult Load(ManifestLimits? limits = null) => ManifestLoader.Load(_dir.Path, limits ?? ManifestLimits.Default, Scope);

    private static string Idms(string name, string source, string mirror) => $"""
        apiVersion: config.openshift.io/v1
        kind: ImageDigestMirrorSet
        metadata:
          name: {name}
        spec:
          imageDigestMirrors:
          - source: {source}
            mirrors:
            - {mirror}
        """;

    // A block-style manifest as an indented list item: continuation lines need two more spaces.
    private static string Flow(string block) => block.Replace("\n", "\n  ", StringComparison.Ordinal);
}
