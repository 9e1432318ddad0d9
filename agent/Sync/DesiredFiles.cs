using NodeAgent.Node;
using NodeAgent.Rendering;

namespace NodeAgent.Sync;

/// <summary>The files a render asks for, in the order they are written (node-apply.md).</summary>
public static class DesiredFiles
{
    /// <summary>
    /// policy.json, then the drop-in, then registries.conf: what a registry entry relies on is in
    /// place before the entry. Without CRI-O (<c>--runtime containerd</c>) each is released
    /// instead: removed, or the original put back, if node-agent wrote it; otherwise untouched.
    /// </summary>
    public static IReadOnlyList<DesiredFile> From(RenderResult result, bool crio = true) =>
    [
        new DesiredFile(HostPaths.PolicyJson, crio ? result.PolicyJson : null),
        new DesiredFile(HostPaths.SearchDropIn, crio ? result.SearchDropIn : null),
        new DesiredFile(HostPaths.RegistriesConf, crio ? result.RegistriesConf : null),
    ];

    /// <summary>
    /// The whole pass in write order: new CA files first, so a hosts.toml never names a CA that is
    /// not there yet; then containerd's hosts.toml files and CRI-O's files; CA files let go of
    /// last, once nothing names them any more.
    /// </summary>
    public static IReadOnlyList<DesiredFile> InOrder(IReadOnlyList<DesiredFile> caFiles, IReadOnlyList<DesiredFile> containerd, IReadOnlyList<DesiredFile> crio) =>
        [.. caFiles.Where(f => f.Content is not null), .. containerd, .. crio, .. caFiles.Where(f => f.Content is null)];
}
