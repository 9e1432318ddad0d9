using NodeAgent.Node;
using NodeAgent.Rendering;

namespace NodeAgent.Sync;

/// <summary>
/// Turns the containerd render into files: one <c>etc/containerd/certs.d/&lt;host&gt;/hosts.toml</c>
/// per registry host, through the same ownership path as every other file (a foreign hosts.toml
/// is kept as the original and put back when node-agent stops managing it), and the release of
/// the hosts.toml files node-agent wrote that are no longer wanted. containerd reads them on
/// every pull, so they never cause a reload.
/// </summary>
public static class ContainerdFiles
{
    /// <summary>
    /// The host path of the <c>ca.crt</c> each registry will have after this pass, for hosts.toml's
    /// <c>ca</c>: a bundle being written (the first <c>CertsTargets</c> entry that takes it), or an
    /// unusable key's previous file that stays. Never a file that will not exist: containerd
    /// refuses a whole host namespace whose <c>ca</c> it cannot read.
    /// </summary>
    public static IReadOnlyDictionary<string, string> CaPaths(
        IReadOnlyList<DesiredFile> caFiles, CaRenderResult ca, IReadOnlyList<string> targets, HostPaths paths)
    {
        var written = caFiles.Where(f => f.Content is not null).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var registries = ca.Bundles.Select(b => b.Directory).Concat(ca.KeepExisting).Distinct(StringComparer.Ordinal).Order(ByteOrder.Instance);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var registry in registries)
        {
            var file = targets.Select(t => HostPaths.CaFile(t, registry))
                .FirstOrDefault(f => written.Contains(f) || (ca.KeepExisting.Contains(registry) && File.Exists(paths.Resolve(f))));
            if (file is not null)
            {
                result[registry] = "/" + file;
            }
        }
        return result;
    }

    public static IReadOnlyList<DesiredFile> Desired(ContainerdRenderResult render, HostPaths paths, NodeState state, List<Problem> problems)
    {
        var desired = new List<DesiredFile>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in render.Files)
        {
            var path = HostPaths.ContainerdHostsFile(file.Namespace);
            wanted.Add(path);
            if (RegistryFilePaths.Unusable(path, paths) is { } reason)
            {
                problems.Add(Problem.Warning(new FieldRef($"/{path}", ""), $"refused to write it: {reason}"));
                continue;
            }
            desired.Add(new DesiredFile(path, ContainerdHostsEncoder.Encode(file)));
            WarnIfShadowed(file.Namespace, paths, problems);
        }
        foreach (var managed in state.Files.Keys.Where(f => IsHostsFile(f) && !wanted.Contains(f)))
        {
            RegistryFilePaths.Release(managed, paths, desired, problems);
        }
        return desired;
    }

    private static bool IsHostsFile(string path) =>
        path.StartsWith(HostPaths.ContainerdCertsDirectory + "/", StringComparison.Ordinal) && Path.GetFileName(path) == "hosts.toml";

    // containerd looks for host_port_ before host:port and reads only the first that exists.
    private static void WarnIfShadowed(string registry, HostPaths paths, List<Problem> problems)
    {
        if (HostPaths.ContainerdPortDirectory(registry) is { } shadow && Directory.Exists(paths.Resolve(shadow)))
        {
            problems.Add(Problem.Warning(new FieldRef($"/{HostPaths.ContainerdHostsFile(registry)}", ""),
                $"shadowed by /{shadow}: containerd reads that directory first and ignores this one (remove it to use node-agent's)"));
        }
    }
}
