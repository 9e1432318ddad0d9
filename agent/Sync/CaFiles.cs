using NodeAgent.Node;
using NodeAgent.Rendering;

namespace NodeAgent.Sync;

/// <summary>
/// Turns the CA render into files under each certs.d target: a bundle per registry, the release
/// of CA files node-agent wrote for keys that are gone, and nothing at all for a key whose value
/// is unusable (its last good file stays) or whose path is a symbolic link (refused, with a warning).
/// </summary>
public static class CaFiles
{
    public static IReadOnlyList<DesiredFile> Desired(CaRenderResult render, IReadOnlyList<string> targets, HostPaths paths, NodeState state, List<Problem> problems)
    {
        var desired = new List<DesiredFile>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var keep = new HashSet<string>(render.KeepExisting, StringComparer.Ordinal);
        foreach (var bundle in render.Bundles)
        {
            foreach (var target in targets)
            {
                var file = HostPaths.CaFile(target, bundle.Directory);
                if (RegistryFilePaths.Unusable(file, paths) is { } reason)
                {
                    problems.Add(Problem.Warning(new FieldRef(string.Join(", ", bundle.Keys), ""), $"refused to write /{file}: {reason}"));
                    keep.Add(bundle.Directory);
                    continue;
                }
                desired.Add(new DesiredFile(file, bundle.Pem));
                wanted.Add(file);
            }
            WarnIfShadowed(bundle, targets, paths, problems);
        }
        // CA files node-agent wrote that are no longer wanted: their key went away, or their target
        // was dropped from CertsTargets (a stale copy there would be read first and hide the new
        // CA). Each is released: removed, or the admin's original put back.
        var targetPrefixes = targets.Select(t => HostPaths.FromHostPath(t) + "/").ToList();
        foreach (var managed in state.Files.Keys.Where(f => f.EndsWith("/ca.crt", StringComparison.Ordinal) && !wanted.Contains(f)))
        {
            var registry = Path.GetFileName(Path.GetDirectoryName(managed))!;
            var underCurrentTarget = targetPrefixes.Any(p => managed.StartsWith(p, StringComparison.Ordinal));
            if (underCurrentTarget && keep.Contains(registry))
            {
                continue;
            }
            RegistryFilePaths.Release(managed, paths, desired, problems);
        }
        return desired;
    }

    // containers/image reads only the first existing of /etc/containers/certs.d/<h> and
    // /etc/docker/certs.d/<h>: an existing, even empty, directory there hides the bundle.
    private static void WarnIfShadowed(CaBundle bundle, IReadOnlyList<string> targets, HostPaths paths, List<Problem> problems)
    {
        if (targets.Any(t => HostPaths.FromHostPath(t) == HostPaths.ContainersCertsDirectory))
        {
            return;
        }
        var shadow = $"{HostPaths.ContainersCertsDirectory}/{bundle.Directory}";
        if (Directory.Exists(paths.Resolve(shadow)))
        {
            problems.Add(Problem.Warning(new FieldRef(string.Join(", ", bundle.Keys), ""),
                $"CA for {bundle.Directory} is shadowed by /{shadow}: containers/image reads only that directory and ignores ours " +
                "(remove it, or add /etc/containers/certs.d to CertsTargets)"));
        }
    }
}
