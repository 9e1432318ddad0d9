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

    /// <summary>A path inside node-agent's state directory, relative to the root.</summary>
    public static string State(params string[] parts) => string.Join('/', [StateDirectory, .. parts]);
}
