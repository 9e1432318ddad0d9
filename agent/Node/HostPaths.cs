namespace NodeAgent.Node;

/// <summary>
/// Every host path node-agent reads or writes, below one root (<c>--root</c>). The only place
/// path literals live; callers pass paths relative to the root, as the dry-run diff prints them.
/// </summary>
public sealed class HostPaths
{
    public const string RegistriesConf = "etc/containers/registries.conf";
    public const string PolicyJson = "etc/containers/policy.json";
    public const string SearchDropIn = "etc/containers/registries.conf.d/01-image-searchRegistries.conf";
    public const string StateDirectory = "var/lib/node-agent";

    /// <summary>The drop-in directory containers/image reads after registries.conf.</summary>
    public const string RegistriesDropInDirectory = "etc/containers/registries.conf.d";

    /// <summary>The short-name aliases containers/image records for root after a prompted pull; they win over registries.conf's.</summary>
    public const string ShortNameAliasesCache = "var/cache/containers/short-name-aliases.conf";

    /// <summary>The certs.d directory node-agent writes CA files to by default, read after <see cref="ContainersCertsDirectory"/>.</summary>
    public const string DockerCertsDirectory = "etc/docker/certs.d";

    public HostPaths(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The absolute path of <paramref name="relative"/> below the root.</summary>
    public string Resolve(string relative) => Path.Join(Root, relative);

    /// <summary>The containers/image certs.d directory that hides /etc/docker/certs.d when it has the host.</summary>
    public const string ContainersCertsDirectory = "etc/containers/certs.d";

    /// <summary>A host path given as a setting (<c>/etc/docker/certs.d</c>), relative to the root.</summary>
    public static string FromHostPath(string absolute) => absolute.Trim('/');

    /// <summary>Where the CA bundle for <paramref name="registry"/> goes in a certs.d target.</summary>
    public static string CaFile(string target, string registry) => $"{FromHostPath(target)}/{registry}/ca.crt";

    /// <summary>
    /// The directory trees that hold every file node-agent writes: <c>etc/containers</c> and each
    /// certs.d target outside it. Few trees, so few inotify instances watch them all.
    /// </summary>
    public static IReadOnlyList<string> WrittenTrees(IEnumerable<string> certsTargets)
    {
        var containers = Path.GetDirectoryName(RegistriesConf)!;
        return [containers, .. certsTargets.Select(FromHostPath).Where(t => t.Length > 0 && t != containers && !t.StartsWith(containers + "/", StringComparison.Ordinal)).Distinct()];
    }

    /// <summary>containerd's registry host namespaces (its CRI <c>config_path</c>, and <c>ctr --hosts-dir</c>).</summary>
    public const string ContainerdCertsDirectory = "etc/containerd/certs.d";

    /// <summary>containerd's configuration for one registry host namespace (<c>host[:port]</c>).</summary>
    public static string ContainerdHostsFile(string registry) => $"{ContainerdCertsDirectory}/{registry}/hosts.toml";

    /// <summary>
    /// The directory containerd reads before <c>host:port</c> (it looks for <c>host_port_</c> first),
    /// or null for a host without a port.
    /// </summary>
    public static string? ContainerdPortDirectory(string registry)
    {
        var colon = registry.LastIndexOf(':');
        return colon > 0 ? $"{ContainerdCertsDirectory}/{registry[..colon]}_{registry[(colon + 1)..]}_" : null;
    }

    /// <summary>A path inside node-agent's state directory, relative to the root.</summary>
    public static string State(params string[] parts) => string.Join('/', [StateDirectory, .. parts]);
}
