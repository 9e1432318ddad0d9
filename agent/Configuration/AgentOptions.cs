namespace NodeAgent.Configuration;

/// <summary>
/// Every node-agent setting with its default, stated once. Settings come from the defaults, then
/// the <c>--config</c> JSON file, then <c>NODEAGENT_&lt;Setting&gt;</c> variables, then the command line.
/// </summary>
public sealed record AgentOptions
{
    /// <summary>Host root; every path read or written is below it. Default <c>/</c>.</summary>
    public string Root { get; init; } = "/";

    /// <summary>Kubeconfig file for the API server (daemon and <c>--once</c> without manifests).</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>This node's name. Default: <c>NODE_NAME</c>, then the host name.</summary>
    public string? NodeName { get; init; }

    /// <summary>Release image for payload protection; overrides ClusterVersion when set.</summary>
    public string? ReleaseImage { get; init; }

    /// <summary>
    /// Run with <c>/bin/sh -c</c> after registries.conf, policy.json or the drop-in changed. Null:
    /// with root <c>/</c>, <c>systemctl reload --job-mode=ignore-dependencies crio.service</c> when that unit is active; otherwise
    /// none. Empty: never reload.
    /// </summary>
    public string? ReloadCommand { get; init; }

    /// <summary>Run after a reload; non-zero rolls back. Null: with the default reload, <c>systemctl is-active --quiet crio.service</c>.</summary>
    public string? HealthCommand { get; init; }

    /// <summary>Daemon HTTP address (<c>ADDR:PORT</c>) for /healthz, /readyz and /metrics. Default and empty: none.</summary>
    public string? Listen { get; init; }

    /// <summary>The base registries.conf search list. Default: MCO's template list.</summary>
    public IReadOnlyList<string> BaseSearchRegistries { get; init; } = ["registry.access.redhat.com", "docker.io"];

    /// <summary>A policy.json to edit instead of MCO's built-in template. Default: none.</summary>
    public string? BasePolicyFile { get; init; }

    /// <summary>Namespace of the additionalTrustedCA ConfigMap. Default <c>openshift-config</c>.</summary>
    public string CaNamespace { get; init; } = "openshift-config";

    /// <summary>The optional managed CA ConfigMap, <c>namespace/name</c>; empty disables it.</summary>
    public string ManagedCaConfigMap { get; init; } = "openshift-config-managed/image-registry-ca";

    /// <summary>certs.d directories CA files are written to. Default <c>/etc/docker/certs.d</c>.</summary>
    public IReadOnlyList<string> CertsTargets { get; init; } = ["/etc/docker/certs.d"];

    /// <summary>
    /// The container runtime whose files are written: <c>crio</c> (registries.conf, policy.json, the
    /// search drop-in, reloaded), <c>containerd</c> (<c>/etc/containerd/certs.d/&lt;host&gt;/hosts.toml</c>,
    /// read on every pull, never reloaded) or <c>both</c>. CA files are written for all. Default <c>crio</c>.
    /// </summary>
    public string Runtime { get; init; } = RuntimeCrio;

    public const string RuntimeCrio = "crio";
    public const string RuntimeContainerd = "containerd";
    public const string RuntimeBoth = "both";

    /// <summary>registries.conf, policy.json and the drop-in are written (and CRI-O reloaded).</summary>
    public bool WritesCrioFiles => Runtime is RuntimeCrio or RuntimeBoth;

    /// <summary>containerd's hosts.toml files are written.</summary>
    public bool WritesContainerdFiles => Runtime is RuntimeContainerd or RuntimeBoth;

    /// <summary>Cap of the watch retry backoff, in seconds. Default 10.</summary>
    public int BackoffCapSeconds { get; init; } = 10;

    /// <summary>
    /// The daemon restores a managed file someone else changed at most this often, in seconds;
    /// while another writer keeps changing it the interval doubles, up to 5 minutes. Default 10.
    /// </summary>
    public int DriftBackoffSeconds { get; init; } = 10;

    /// <summary>Largest manifest file read. Default 16 MiB.</summary>
    public long MaxManifestBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Deepest YAML or JSON nesting read. Default 64.</summary>
    public int MaxYamlDepth { get; init; } = 64;

    /// <summary>
    /// Publish each pass's result as Events on this node's Node and a <c>node-agent.io/status</c>
    /// annotation (needs deploy/optional/status-rbac.yaml). Default false: the default install
    /// only reads.
    /// </summary>
    public bool ReportStatus { get; init; }

    /// <summary>Log level: Trace, Debug, Information, Warning, Error. Default Information.</summary>
    public string LogLevel { get; init; } = "Information";

    // Modes and one-shot switches: command line only.
    public bool Once { get; init; }
    public string? Manifests { get; init; }
    public bool DryRun { get; init; }
    public bool AllowEmpty { get; init; }
    public string Output { get; init; } = CommandLine.OutputText;
    public string? ConfigFile { get; init; }
}
