using NodeAgent.Configuration;
using NodeAgent.Resources;

namespace NodeAgent.Sync;

/// <summary>The words of the "read …" and "rendered …" log lines: counts with their nouns, and what is written.</summary>
public static class SnapshotSummary
{
    /// <summary><c>1 object</c>, <c>7 objects</c>.</summary>
    public static string Plural(int count, string one, string many) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many)}");

    /// <summary>Each watched kind's count, ConfigMaps included, so the counts add up to the objects read.</summary>
    public static string Kinds(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{snapshot.ImageDigestMirrorSets.Count} ImageDigestMirrorSet, {snapshot.ImageTagMirrorSets.Count} ImageTagMirrorSet, " +
            $"{snapshot.ImageContentSourcePolicies.Count} ImageContentSourcePolicy, {snapshot.ConfigMaps.Count} ConfigMap, " +
            $"Image/cluster {(snapshot.Image is null ? "absent" : "present")}, ClusterVersion/version {(snapshot.ClusterVersion is null ? "absent" : "present")}");
    }

    /// <summary>
    /// What the render becomes on this node's runtime: CRI-O's files (whether the search drop-in
    /// is among them), containerd's hosts.toml, or both.
    /// </summary>
    public static string RuntimeFiles(AgentOptions options, bool searchDropIn)
    {
        ArgumentNullException.ThrowIfNull(options);
        var crio = $"for CRI-O: registries.conf, policy.json, search drop-in {(searchDropIn ? "present" : "absent")}";
        return (options.WritesCrioFiles, options.WritesContainerdFiles) switch
        {
            (true, true) => $"{crio}; for containerd: hosts.toml",
            (false, true) => "for containerd: hosts.toml only (no registries.conf, policy.json or search drop-in)",
            _ => $"search drop-in {(searchDropIn ? "present" : "absent")}",
        };
    }
}
