using NodeAgent.Node;
using NodeAgent.Rendering;

namespace NodeAgent.Sync;

/// <summary>The files a render asks for, in the order they are written (node-apply.md).</summary>
public static class DesiredFiles
{
    /// <summary>
    /// policy.json, then the drop-in, then registries.conf: what a registry entry relies on is in
    /// place before the entry. CA files (<see cref="CaFiles"/>) go before all of these.
    /// </summary>
    public static IReadOnlyList<DesiredFile> From(RenderResult result) =>
    [
        new DesiredFile(HostPaths.PolicyJson, result.PolicyJson),
        new DesiredFile(HostPaths.SearchDropIn, result.SearchDropIn),
        new DesiredFile(HostPaths.RegistriesConf, result.RegistriesConf),
    ];
}
