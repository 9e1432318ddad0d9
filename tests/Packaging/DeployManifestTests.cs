using System.Collections;
using System.Diagnostics;
using FluentAssertions;
using NodeAgent.Cluster;
using NodeAgent.Configuration;
using NodeAgent.Tests.Support;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace NodeAgent.Tests.Packaging;

/// <summary>
/// deploy/ as a cluster would receive it: every YAML parses, each object is a valid object of its
/// kind, RBAC is read-only and covers exactly what node-agent watches (taken from the agent's own
/// <see cref="ResourceType"/> list), the CRDs serve those kinds, and the DaemonSet's arguments are
/// real options. The reload mechanism is run end to end against stand-ins (no systemd, D-Bus or
/// CRI-O here): a fake <c>systemctl</c> on PATH that accepts only the DaemonSet's exact command
/// lines and forwards the reload as SIGHUP to a stand-in runtime that re-reads registries.conf.
/// </summary>
public sealed class DeployManifestTests : IDisposable
{
    private static readonly string Deploy = Path.Join(RepoPaths.Root, "deploy");
    private static readonly string[] ReadOnlyVerbs = ["get", "list", "watch"];

    /// <summary>The host directories the DaemonSet may mount, and the reload mechanism's socket.</summary>
    private static readonly string[] AllowedHostPaths =
        ["/etc/containers", "/etc/docker/certs.d", "/var/lib/node-agent", "/run/dbus/system_bus_socket"];

    private static readonly ResourceType[] Watched =
    [
        ResourceType.Images, ResourceType.ClusterVersions, ResourceType.ImageDigestMirrorSets,
        ResourceType.ImageTagMirrorSets, ResourceType.ImageContentSourcePolicies,
    ];

    private readonly TempRoot _work = new("deploy");
    private readonly List<Process> _standIns = [];

    public void Dispose()
    {
        foreach (var process in _standIns.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        _work.Dispose();
    }

    // ---- parsing ----------------------------------------------------------------------------------

    private sealed record KubeObject(string File, Dictionary<string, object?> Tree)
    {
        public string Kind => Str(Tree, "kind");

        public string Name => Str(Tree, "metadata.name");

        public string? Namespace => Opt(Tree, "metadata.namespace") as string;

        public override string ToString() => $"{Kind}/{Name} in {Path.GetRelativePath(RepoPaths.Root, File)}";
    }

    /// <summary>The default install: every manifest under deploy/ except the optional ones.</summary>
    private static List<KubeObject> AllObjects() => Objects(optional: false);

    private static List<KubeObject> Objects(bool optional)
    {
        var optionalDirectory = Path.Join(Deploy, "optional") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(Deploy, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(f => f.StartsWith(optionalDirectory, StringComparison.Ordinal) == optional)
            .Order(StringComparer.Ordinal)
            .ToList();
        files.Should().NotBeEmpty();
        var objects = new List<KubeObject>();
        foreach (var file in files)
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                stream.Load(reader);
            }
            foreach (var document in stream.Documents)
            {
                var tree = ToTree(document.RootNode).Should().BeOfType<Dictionary<string, object?>>($"each document of {file} is an object").Subject;
                objects.Add(new KubeObject(file, tree));
            }
        }
        return objects;
    }

    private static object? ToTree(YamlNode node) => node switch
    {
        YamlMappingNode map => map.Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ToTree(e.Value), StringComparer.Ordinal),
        YamlSequenceNode seq => seq.Children.Select(ToTree).ToList(),
        YamlScalarNode scalar => scalar.Value,
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    /// <summary>The value at a dotted path, or null when any step is missing.</summary>
    private static object? Opt(object? tree, string path)
    {
        foreach (var step in path.Split('.'))
        {
            if (tree is not Dictionary<string, object?> map || !map.TryGetValue(step, out tree))
            {
                return null;
            }
        }
        return tree;
    }

    private static string Str(object? tree, string path) =>
        Opt(tree, path) as string ?? throw new InvalidOperationException($"{path} is not a string");

    private static Dictionary<string, object?> Map(object? tree, string path) =>
        Opt(tree, path) as Dictionary<string, object?> ?? throw new InvalidOperationException($"{path} is not a mapping");

    private static List<object?> Seq(object? tree, string path) =>
        Opt(tree, path) as List<object?> ?? [];

    private static IEnumerable<string> Strings(object? tree, string path) => Seq(tree, path).Cast<string>();

    private static KubeObject Single(string kind) => AllObjects().Single(o => o.Kind == kind);

    private static Dictionary<string, object?> Pod => Map(Single("DaemonSet").Tree, "spec.template.spec");

    private static Dictionary<string, object?> Container =>
        Seq(Pod, "containers").Should().ContainSingle().Which.Should().BeOfType<Dictionary<string, object?>>().Subject;

    private static string[] DaemonSetArgs => [.. Strings(Container, "args")];

    // ---- every object -----------------------------------------------------------------------------

    [Fact]
    public void Every_object_has_an_apiVersion_kind_and_name_and_a_namespace_exactly_when_namespaced()
    {
        var namespaced = new HashSet<string>(StringComparer.Ordinal) { "ServiceAccount", "Role", "RoleBinding", "DaemonSet" };
        var clusterScoped = new HashSet<string>(StringComparer.Ordinal)
        {
            "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "SecurityContextConstraints",
        };
        var objects = AllObjects();
        objects.Select(o => o.Kind).Should().Contain(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "DaemonSet", "CustomResourceDefinition"]);
        foreach (var o in objects)
        {
            Str(o.Tree, "apiVersion").Should().NotBeNullOrEmpty(o.ToString());
            o.Name.Should().MatchRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", o.ToString());
            (namespaced.Contains(o.Kind) || clusterScoped.Contains(o.Kind)).Should().BeTrue($"{o} is a kind this test knows");
            if (namespaced.Contains(o.Kind))
            {
                o.Namespace.Should().NotBeNullOrEmpty($"{o} is namespaced");
            }
            else
            {
                o.Namespace.Should().BeNull($"{o} is cluster-scoped");
            }
        }
        objects.GroupBy(o => (o.Kind, o.Namespace, o.Name)).Should().OnlyContain(g => g.Count() == 1, "no object is defined twice");
        var apiVersions = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Namespace"] = "v1", ["ServiceAccount"] = "v1", ["DaemonSet"] = "apps/v1",
            ["ClusterRole"] = "rbac.authorization.k8s.io/v1", ["ClusterRoleBinding"] = "rbac.authorization.k8s.io/v1",
            ["Role"] = "rbac.authorization.k8s.io/v1", ["RoleBinding"] = "rbac.authorization.k8s.io/v1",
            ["CustomResourceDefinition"] = "apiextensions.k8s.io/v1", ["SecurityContextConstraints"] = "security.openshift.io/v1",
        };
        objects.Should().OnlyContain(o => Str(o.Tree, "apiVersion") == apiVersions[o.Kind]);
    }

    // ---- DaemonSet --------------------------------------------------------------------------------

    [Fact]
    public void DaemonSet_selector_matches_the_template_and_runs_everywhere_with_a_rolling_update()
    {
        var ds = Single("DaemonSet").Tree;
        var selector = Map(ds, "spec.selector.matchLabels");
        var labels = Map(ds, "spec.template.metadata.labels");
        selector.Should().NotBeEmpty();
        labels.Should().Contain(selector);
        Str(ds, "spec.updateStrategy.type").Should().Be("RollingUpdate");
        Str(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable").Should().MatchRegex("^[1-9][0-9]?%$");
        Str(Pod, "priorityClassName").Should().Be("system-node-critical");
        Seq(Pod, "tolerations").Should().ContainSingle(t => Str(t, "operator") == "Exists" && Opt(t, "key") == null && Opt(t, "effect") == null,
            "an empty key with operator Exists tolerates every taint");
        (Opt(Pod, "hostPID") as string ?? "false").Should().Be("false");
        (Opt(Pod, "hostNetwork") as string ?? "false").Should().Be("false");
        (Opt(Pod, "hostIPC") as string ?? "false").Should().Be("false");
        var sa = Str(Pod, "serviceAccountName");
        AllObjects().Should().Contain(o => o.Kind == "ServiceAccount" && o.Name == sa && o.Namespace == Single("DaemonSet").Namespace);
        Str(Container, "image").Should().EndWith(":0.1.0");
        Seq(Container, "env").Should().Contain(e => Str(e, "name") == "NODE_NAME" && Str(e, "valueFrom.fieldRef.fieldPath") == "spec.nodeName");
    }

    [Fact]
    public void DaemonSet_probes_are_healthz_and_readyz_on_the_listen_port()
    {
        Str(Container, "livenessProbe.httpGet.path").Should().Be("/healthz");
        Str(Container, "livenessProbe.httpGet.port").Should().Be("9101");
        Str(Container, "readinessProbe.httpGet.path").Should().Be("/readyz");
        Str(Container, "readinessProbe.httpGet.port").Should().Be("9101");
        Seq(Container, "ports").Should().Contain(p => Str(p, "containerPort") == "9101");
        var options = LoadOptions(DaemonSetArgs);
        ListenAddress.TryParse(options.Listen!, out _, out _).Should().BeTrue();
        options.Listen.Should().EndWith(":9101").And.StartWith("0.0.0.0", "kubelet probes the pod IP");
    }

    [Fact]
    public void DaemonSet_mounts_only_the_allowed_host_paths_below_host()
    {
        var volumes = Seq(Pod, "volumes").ToDictionary(v => Str(v, "name"), v => v);
        var hostPaths = volumes.Values.Where(v => Opt(v, "hostPath") is not null).Select(v => Str(v, "hostPath.path")).ToList();
        hostPaths.Should().BeEquivalentTo(AllowedHostPaths, "host paths only for what node-agent writes and what the reload needs");
        volumes.Values.Should().OnlyContain(v => Opt(v, "hostPath") != null || Opt(v, "emptyDir") != null,
            "nothing but host paths and scratch directories");
        var mounts = Seq(Container, "volumeMounts").ToList();
        foreach (var mount in mounts)
        {
            var volume = volumes[Str(mount, "name")];
            var mountPath = Str(mount, "mountPath");
            if (Opt(volume, "hostPath.path") is string hostPath)
            {
                mountPath.Should().Be(hostPath == "/run/dbus/system_bus_socket" ? hostPath : "/host" + hostPath,
                    "files node-agent writes are below --root /host; the bus socket is where systemctl looks for it");
            }
        }
        volumes.Keys.Should().BeEquivalentTo(mounts.Select(m => Str(m, "name")), "every volume is mounted, every mount has a volume");
        LoadOptions(DaemonSetArgs).Root.Should().Be("/host");
    }

    [Fact]
    public void DaemonSet_resources_and_security_context_are_least_privilege()
    {
        Str(Container, "resources.requests.cpu").Should().Be("10m");
        Str(Container, "resources.requests.memory").Should().Be("96Mi");
        Str(Container, "resources.limits.memory").Should().Be("192Mi");
        var security = Map(Container, "securityContext");
        Str(security, "readOnlyRootFilesystem").Should().Be("true");
        Str(security, "allowPrivilegeEscalation").Should().Be("false");
        Str(security, "privileged").Should().Be("false");
        Str(security, "runAsUser").Should().Be("0");
        Strings(security, "capabilities.drop").Should().Equal("ALL");
        Seq(security, "capabilities.add").Should().BeEmpty("the D-Bus reload needs no capability");
        Str(security, "seccompProfile.type").Should().Be("RuntimeDefault");
    }

    [Fact]
    public void DaemonSet_args_are_real_node_agent_options()
    {
        var options = LoadOptions(DaemonSetArgs);
        options.Once.Should().BeFalse("the pod runs the daemon");
        options.Root.Should().Be("/host");
        options.ReloadCommand.Should().Be("systemctl reload crio.service");
        options.HealthCommand.Should().Be("systemctl is-active --quiet crio.service");
        options.Kubeconfig.Should().BeNull("in the pod the API server comes from the service account");
    }

    private static AgentOptions LoadOptions(IReadOnlyList<string> args) =>
        OptionsLoader.Load(CommandLine.Parse(args), new Hashtable());

    // ---- RBAC -------------------------------------------------------------------------------------

    [Fact]
    public void Optional_status_rbac_grants_only_creating_events_and_patching_nodes_to_the_same_account()
    {
        var objects = Objects(optional: true);
        var grants = objects.Where(o => o.Kind is "ClusterRole" or "Role")
            .SelectMany(role => Seq(role.Tree, "rules").SelectMany(r => Strings(r, "apiGroups").SelectMany(g => Strings(r, "resources")
                .SelectMany(res => Strings(r, "verbs").Select(v => (role.Kind, role.Namespace, g, res, v))))))
            .ToList();
        grants.Should().BeEquivalentTo(
            new[] { ("ClusterRole", (string?)null, "", "nodes", "patch"), ("Role", (string?)"default", "", "events", "create") },
            "what --report-status writes, nothing else: patch Nodes, create Events where a Node's events live");
        foreach (var binding in objects.Where(o => o.Kind is "ClusterRoleBinding" or "RoleBinding"))
        {
            objects.Should().Contain(o => o.Name == Str(binding.Tree, "roleRef.name") && o.Kind == Str(binding.Tree, "roleRef.kind") && o.Namespace == binding.Namespace);
            var subject = Seq(binding.Tree, "subjects").Should().ContainSingle().Subject;
            Str(subject, "name").Should().Be(Str(Pod, "serviceAccountName"));
            Str(subject, "namespace").Should().Be(Single("DaemonSet").Namespace);
        }
        DaemonSetArgs.Should().NotContain("--report-status", "reporting is off by default");
    }

    [Fact]
    public void Rbac_is_read_only_and_covers_exactly_the_watched_kinds()
    {
        var objects = AllObjects();
        var roles = objects.Where(o => o.Kind is "ClusterRole" or "Role").ToList();
        foreach (var role in roles)
        {
            foreach (var rule in Seq(role.Tree, "rules"))
            {
                Strings(rule, "verbs").Should().NotBeEmpty().And.OnlyContain(v => ReadOnlyVerbs.Contains(v), $"{role} only reads");
                Strings(rule, "resources").Should().NotContain("*");
                Strings(rule, "apiGroups").Should().NotContain("*");
                Opt(rule, "nonResourceURLs").Should().BeNull();
            }
        }

        var clusterRole = roles.Single(r => r.Kind == "ClusterRole");
        var clusterGrants = Seq(clusterRole.Tree, "rules")
            .SelectMany(r => Strings(r, "apiGroups").SelectMany(g => Strings(r, "resources").Select(res => (g, res))))
            .ToHashSet();
        clusterGrants.Should().BeEquivalentTo(Watched.Select(w => (w.Group, w.Plural)), "exactly the kinds node-agent lists and watches");

        var defaults = new AgentOptions();
        string[] caNamespaces = [defaults.CaNamespace, defaults.ManagedCaConfigMap!.Split('/')[0]];
        var namespacedRoles = roles.Where(r => r.Kind == "Role").ToList();
        namespacedRoles.Select(r => r.Namespace).Should().BeEquivalentTo(caNamespaces);
        foreach (var role in namespacedRoles)
        {
            Seq(role.Tree, "rules").Should().OnlyContain(r => Strings(r, "resources").SequenceEqual(new[] { "configmaps" }) && Strings(r, "apiGroups").SequenceEqual(new[] { "" }));
        }

        var account = objects.Single(o => o.Kind == "ServiceAccount");
        foreach (var binding in objects.Where(o => o.Kind is "ClusterRoleBinding" or "RoleBinding"))
        {
            var roleKind = Str(binding.Tree, "roleRef.kind");
            var roleName = Str(binding.Tree, "roleRef.name");
            roles.Should().Contain(r => r.Kind == roleKind && r.Name == roleName && (roleKind == "ClusterRole" || r.Namespace == binding.Namespace), $"{binding} binds a role defined here");
            Seq(binding.Tree, "subjects").Should().ContainSingle()
                .Which.Should().Match<object?>(s => Str(s, "kind") == "ServiceAccount" && Str(s, "name") == account.Name && Str(s, "namespace") == account.Namespace);
        }
        objects.Where(o => o.Kind == "RoleBinding").Select(o => o.Namespace).Should().BeEquivalentTo(caNamespaces);
        objects.Should().ContainSingle(o => o.Kind == "ClusterRoleBinding");
    }

    [Fact]
    public void OpenShift_scc_admits_the_daemonset_for_its_service_account_only()
    {
        var scc = Single("SecurityContextConstraints").Tree;
        var account = Single("ServiceAccount");
        Strings(scc, "users").Should().Equal($"system:serviceaccount:{account.Namespace}:{account.Name}");
        Seq(scc, "groups").Should().BeEmpty();
        foreach (var forbidden in new[] { "allowPrivilegedContainer", "allowPrivilegeEscalation", "allowHostNetwork", "allowHostPID", "allowHostIPC", "allowHostPorts" })
        {
            Str(scc, forbidden).Should().Be("false", forbidden);
        }
        Strings(scc, "requiredDropCapabilities").Should().Equal("ALL");
        Seq(scc, "allowedCapabilities").Should().BeEmpty();
        Str(scc, "readOnlyRootFilesystem").Should().Be("true");
        var volumeTypes = Seq(Pod, "volumes").Select(v => Opt(v, "hostPath") is not null ? "hostPath" : "emptyDir").Append("projected").Distinct();
        Strings(scc, "volumes").Should().BeEquivalentTo(volumeTypes, "the DaemonSet's volumes and the projected service-account token");
    }

    // ---- CRDs -------------------------------------------------------------------------------------

    public static TheoryData<string, string[]> FieldsRead => new()
    {
        { "images", ["spec.registrySources.insecureRegistries[]", "spec.registrySources.blockedRegistries[]", "spec.registrySources.allowedRegistries[]", "spec.registrySources.containerRuntimeSearchRegistries[]", "spec.additionalTrustedCA.name"] },
        { "clusterversions", ["status.desired.image"] },
        { "imagedigestmirrorsets", ["spec.imageDigestMirrors[].source", "spec.imageDigestMirrors[].mirrors[]", "spec.imageDigestMirrors[].mirrorSourcePolicy"] },
        { "imagetagmirrorsets", ["spec.imageTagMirrors[].source", "spec.imageTagMirrors[].mirrors[]", "spec.imageTagMirrors[].mirrorSourcePolicy"] },
        { "imagecontentsourcepolicies", ["spec.repositoryDigestMirrors[].source", "spec.repositoryDigestMirrors[].mirrors[]"] },
    };

    [Theory]
    [MemberData(nameof(FieldsRead))]
    public void Crd_serves_the_watched_kind_with_a_schema_for_every_field_read(string plural, string[] fields)
    {
        var watched = Watched.Single(w => w.Plural == plural);
        var crd = AllObjects().Should().ContainSingle(o => o.Kind == "CustomResourceDefinition" && Str(o.Tree, "spec.names.plural") == plural).Subject;
        crd.Name.Should().Be($"{plural}.{watched.Group}");
        Str(crd.Tree, "spec.group").Should().Be(watched.Group);
        Str(crd.Tree, "spec.scope").Should().Be("Cluster");
        Str(crd.Tree, "spec.names.kind").Should().NotBeNullOrEmpty();
        Str(crd.Tree, "spec.names.listKind").Should().Be(Str(crd.Tree, "spec.names.kind") + "List");
        var versions = Seq(crd.Tree, "spec.versions");
        versions.Should().ContainSingle(v => Str(v, "storage") == "true");
        var version = versions.Should().ContainSingle(v => Str(v, "name") == watched.Version).Subject;
        Str(version, "served").Should().Be("true");
        var schema = Map(version, "schema.openAPIV3Schema");
        Str(schema, "type").Should().Be("object");
        foreach (var field in fields)
        {
            SchemaAt(schema, field).Should().NotBeNull($"{crd} describes {field}, which node-agent reads");
        }
        if (plural == "clusterversions")
        {
            Opt(version, "subresources.status").Should().NotBeNull("status.desired.image is written through the status subresource");
        }

        var kind = Str(crd.Tree, "spec.names.kind");
        foreach (var example in Directory.EnumerateFiles(RepoPaths.Examples, "*.yaml"))
        {
            var text = File.ReadAllText(example);
            if (text.Contains($"kind: {kind}\n", StringComparison.Ordinal))
            {
                text.Should().Contain($"apiVersion: {watched.ApiVersion}\n", $"{example} uses the version the CRD serves");
            }
        }
    }

    /// <summary>The schema at a path like <c>spec.a[].b</c>: properties by name, <c>[]</c> for array items.</summary>
    private static object? SchemaAt(object? schema, string path)
    {
        foreach (var raw in path.Split('.'))
        {
            var array = raw.EndsWith("[]", StringComparison.Ordinal);
            schema = Opt(schema, "properties." + raw.TrimEnd('[', ']'));
            if (array)
            {
                if (Opt(schema, "type") as string != "array")
                {
                    return null;
                }
                schema = Opt(schema, "items");
            }
        }
        return Opt(schema, "type") is string ? schema : null;
    }

    // ---- Containerfile ----------------------------------------------------------------------------

    [Fact]
    public void Containerfile_ships_the_self_contained_build_and_systemctl()
    {
        var lines = File.ReadAllLines(Path.Join(Deploy, "Containerfile")).Where(l => !l.TrimStart().StartsWith('#')).ToList();
        lines.Should().Contain(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("COPY dist/publish/linux-x64/ /usr/lib/node-agent/", StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("install", StringComparison.Ordinal) && l.Contains("systemd", StringComparison.Ordinal), "systemctl does the reload");
        lines.Should().Contain("ENTRYPOINT [\"/usr/lib/node-agent/node-agent\"]");
        lines.Should().Contain("USER 0");
        lines.Should().Contain("COPY LICENSE /usr/share/licenses/node-agent/", "the image carries the license as the RPM does");
    }

    // ---- the reload mechanism, end to end against stand-ins ---------------------------------------

    /// <summary>
    /// Starts the stand-in runtime and puts a fake systemctl first on PATH. The stand-in loads
    /// registries.conf at start and on every SIGHUP (as CRI-O does), counting reloads; the fake
    /// systemctl records each call, refuses any command line but the DaemonSet's two, forwards
    /// "reload" as SIGHUP and waits for the stand-in to have re-read (systemctl waits for the job).
    /// </summary>
    private (string State, Dictionary<string, string> Environment) StartStandInRuntime(string root)
    {
        var state = _work.File("crio");
        Directory.CreateDirectory(state);
        var standIn = _work.Write("crio-stand-in.sh", """
            #!/bin/sh
            state=$1 conf=$2
            load() {
              if [ -f "$conf" ]; then cp "$conf" "$state/loaded.tmp"; else : > "$state/loaded.tmp"; fi
              mv "$state/loaded.tmp" "$state/loaded.conf"
            }
            reloads=0
            on_hup() {
              if [ -e "$state/crash-on-reload" ]; then touch "$state/dead"; exit 1; fi
              load
              reloads=$((reloads + 1)); echo "$reloads" > "$state/reloads.tmp"; mv "$state/reloads.tmp" "$state/reloads"
            }
            trap on_hup HUP
            trap 'exit 0' TERM
            load
            echo 0 > "$state/reloads"
            echo $$ > "$state/pid"
            while :; do sleep 1 & wait $!; done
            """);
        var shims = _work.File("shims");
        Directory.CreateDirectory(shims);
        var systemctl = _work.Write("shims/systemctl", $$"""
            #!/bin/sh
            state='{{state}}'
            echo "$*" >> "$state/systemctl.log"
            pid=$(cat "$state/pid")
            alive() { [ ! -e "$state/dead" ] && kill -0 "$pid" 2>/dev/null; }
            case "$*" in
              "reload crio.service")
                alive || { echo "crio.service is not active, cannot reload." >&2; exit 1; }
                before=$(cat "$state/reloads")
                kill -HUP "$pid"
                i=0
                while [ "$(cat "$state/reloads")" = "$before" ]; do
                  alive || { echo "Job for crio.service failed." >&2; exit 1; }
                  i=$((i + 1)); [ "$i" -gt 200 ] && exit 1
                  sleep 0.05
                done ;;
              "is-active --quiet crio.service")
                alive ;;
              *)
                echo "unexpected: systemctl $*" >&2; exit 64 ;;
            esac
            """);
        File.SetUnixFileMode(systemctl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var process = Process.Start(NodeAgentProcess.StartInfo("/bin/sh", [standIn, state, Path.Join(root, "etc/containers/registries.conf")], new Dictionary<string, string?>()))!;
        process.StandardInput.Close();
        _standIns.Add(process);
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(Path.Join(state, "pid")))
        {
            process.HasExited.Should().BeFalse("the stand-in runtime keeps running");
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the stand-in runtime starts");
            Thread.Yield();
        }
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = shims + ":" + System.Environment.GetEnvironmentVariable("PATH"),
            ["NODE_NAME"] = "node-a",
        };
        return (state, environment);
    }

    /// <summary>The DaemonSet's arguments with the root (and listen address) moved for a test.</summary>
    private static List<string> PodArgs(string root, string listen)
    {
        var args = DaemonSetArgs.ToList();
        args[args.IndexOf("--root") + 1] = root;
        args[args.IndexOf("--listen") + 1] = listen;
        return args;
    }

    private static string[] SystemctlCalls(string state) =>
        File.Exists(Path.Join(state, "systemctl.log")) ? File.ReadAllLines(Path.Join(state, "systemctl.log")) : [];

    [Fact]
    public void Reload_runs_the_daemonsets_systemctl_commands_and_the_runtime_rereads_the_new_file()
    {
        var root = _work.File("root");
        _work.Write("root/etc/containers/registries.conf", "# the OS's file\n");
        var (state, environment) = StartStandInRuntime(root);
        File.ReadAllText(Path.Join(state, "loaded.conf")).Should().Be("# the OS's file\n");

        var result = NodeAgentProcess.Run([.. PodArgs(root, "127.0.0.1:0"), "--once", "--manifests", RepoPaths.Examples], environment);

        result.ExitCode.Should().Be(0, result.ToString());
        SystemctlCalls(state).Should().Equal("reload crio.service", "is-active --quiet crio.service");
        File.ReadAllText(Path.Join(state, "reloads")).Trim().Should().Be("1");
        File.ReadAllText(Path.Join(state, "loaded.conf")).Should().Be(File.ReadAllText(Path.Join(root, "etc/containers/registries.conf")))
            .And.Contain("mirror.corp.example:5000", "the runtime re-read the rendered file on SIGHUP");

        // Everything node-agent wrote lies in a directory the DaemonSet mounts from the host.
        var mounted = Seq(Container, "volumeMounts").Select(m => Str(m, "mountPath"))
            .Where(p => p.StartsWith("/host/", StringComparison.Ordinal)).Select(p => p["/host/".Length..] + "/").ToList();
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f))
            .Should().NotBeEmpty().And.OnlyContain(f => mounted.Any(m => f.StartsWith(m, StringComparison.Ordinal)), "the pod can write nothing else below /host");

        var again = NodeAgentProcess.Run([.. PodArgs(root, "127.0.0.1:0"), "--once", "--manifests", RepoPaths.Examples], environment);
        again.ExitCode.Should().Be(0, again.ToString());
        SystemctlCalls(state).Should().HaveCount(2, "nothing changed, so no reload");
    }

    [Fact]
    public void A_runtime_that_dies_on_reload_fails_the_check_and_the_old_file_is_put_back()
    {
        var root = _work.File("root");
        _work.Write("root/etc/containers/registries.conf", "# the OS's file\n");
        var (state, environment) = StartStandInRuntime(root);
        File.WriteAllText(Path.Join(state, "crash-on-reload"), "");

        var result = NodeAgentProcess.Run([.. PodArgs(root, "127.0.0.1:0"), "--once", "--manifests", RepoPaths.Examples], environment);

        result.ExitCode.Should().Be(1, result.ToString());
        SystemctlCalls(state).Should().StartWith("reload crio.service");
        SystemctlCalls(state).Should().OnlyContain(c => c == "reload crio.service" || c == "is-active --quiet crio.service");
        File.ReadAllText(Path.Join(root, "etc/containers/registries.conf")).Should().Be("# the OS's file\n", "rolled back");
    }

    [Fact]
    public async Task The_daemon_with_the_daemonsets_args_reloads_the_runtime_on_each_cluster_change()
    {
        await using var cluster = await FakeCluster.StartAsync();
        foreach (var example in Directory.EnumerateFiles(RepoPaths.Examples, "*.yaml").Where(f => !f.EndsWith("unrelated.yaml", StringComparison.Ordinal)))
        {
            cluster.Apply(File.ReadAllText(example));
        }
        var root = _work.File("root");
        var (state, environment) = StartStandInRuntime(root);
        var loaded = Path.Join(state, "loaded.conf");
        var written = Path.Join(root, "etc/containers/registries.conf");

        using var daemon = DaemonProcess.Start([.. PodArgs(root, "127.0.0.1:0"), "--kubeconfig", cluster.Kubeconfig], environment);
        await daemon.WaitForAsync(() => File.Exists(written) && File.ReadAllText(loaded) == File.ReadAllText(written), "the runtime loaded the first render");
        await daemon.WaitForAsync(() => SystemctlCalls(state).Length == 2, "the health check after the first reload");

        var image = File.ReadAllText(Path.Join(RepoPaths.Examples, "image-cluster.yaml"))
            .Replace("    insecureRegistries:\n", "    insecureRegistries:\n      - staging.corp.example\n", StringComparison.Ordinal);
        cluster.Apply(image);
        await daemon.WaitForAsync(() => File.ReadAllText(loaded).Contains("staging.corp.example", StringComparison.Ordinal), "the runtime re-read the changed file");
        await daemon.WaitForAsync(() => SystemctlCalls(state).Length == 4, "the health check after the second reload");

        SystemctlCalls(state).Should().Equal("reload crio.service", "is-active --quiet crio.service", "reload crio.service", "is-active --quiet crio.service");
        File.ReadAllText(loaded).Should().Be(File.ReadAllText(written));
        daemon.LogText.Should().NotContain("rolled back");
    }

    // ---- bootstrap --------------------------------------------------------------------------------

    [Fact]
    public void Bootstrap_units_command_line_works_with_the_real_binary()
    {
        var unit = File.ReadAllLines(Path.Join(Deploy, "bootstrap", "node-agent-bootstrap.service"));
        var execStart = unit.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        unit.Should().Contain(l => l.StartsWith("Before=", StringComparison.Ordinal) && l.Contains("crio.service", StringComparison.Ordinal));
        var args = SplitUnitCommandLine(execStart);
        args[0].Should().Be("/usr/bin/node-agent");
        args.Should().ContainInOrder("--once", "--manifests", "/etc/node-agent/bootstrap-manifests");
        args.Should().ContainInOrder("--root", "/");
        args.Should().ContainInOrder("--reload-command", "");

        var root = _work.File("boot");
        var local = args.Skip(1).ToList();
        local[local.IndexOf("--manifests") + 1] = RepoPaths.Examples;
        local[local.IndexOf("--root") + 1] = root;
        var result = NodeAgentProcess.Run(local);

        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(Path.Join(root, "etc/containers/registries.conf")).Should().BeTrue();
        File.Exists(Path.Join(root, "var/lib/node-agent/state.json")).Should().BeTrue("the daemon that starts later knows what it owns");
        result.Stderr.Should().Contain("no runtime reload");
    }

    /// <summary>systemd's word splitting for the forms the unit uses: spaces, and '' or "" quoting.</summary>
    private static List<string> SplitUnitCommandLine(string line)
    {
        var words = new List<string>();
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] == ' ')
            {
                i++;
                continue;
            }
            if (line[i] is '\'' or '"')
            {
                var end = line.IndexOf(line[i], i + 1);
                words.Add(line[(i + 1)..end]);
                i = end + 1;
                continue;
            }
            var next = line.IndexOf(' ', i);
            next = next < 0 ? line.Length : next;
            words.Add(line[i..next]);
            i = next;
        }
        return words;
    }
}
