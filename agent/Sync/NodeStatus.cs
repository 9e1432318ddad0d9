using System.Globalization;
using System.Text.Json.Serialization;
using NodeAgent.Resources;

namespace NodeAgent.Sync;

/// <summary>
/// What the last pass did on this node, kept in <c>var/lib/node-agent/status.json</c> for
/// <c>node-agent status</c> and, when enabled, published as a Node annotation and Events.
/// </summary>
public sealed record NodeStatus
{
    /// <summary>When the pass that produced this status ran (UTC, RFC 3339); later passes that find everything as it was leave it.</summary>
    [JsonPropertyName("time")] public string Time { get; init; } = "";

    /// <summary>The outcome: Applied, Unchanged, InvalidInput, Failed, RolledBack, ClusterUnreachable.</summary>
    [JsonPropertyName("result")] public string Result { get; init; } = "";

    [JsonPropertyName("summary")] public string Summary { get; init; } = "";

    /// <summary>SHA-256 of every rendered file (path and bytes, in write order); empty when nothing rendered.</summary>
    [JsonPropertyName("renderedHash")] public string RenderedHash { get; init; } = "";

    /// <summary><c>Kind/name</c> (<c>Kind/namespace/name</c> for ConfigMaps) → generation (else resourceVersion) of every object the pass saw.</summary>
    [JsonPropertyName("generations")] public SortedDictionary<string, string> Generations { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The last reload run, in this pass or an earlier one.</summary>
    [JsonPropertyName("lastReload")] public ReloadRecord? LastReload { get; init; }

    /// <summary>Registry host (<c>host[:port]</c>) → the earliest notAfter of its CA certificates.</summary>
    [JsonPropertyName("caExpiry")] public SortedDictionary<string, string> CaExpiry { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The pass's warnings, as printed (<c>warning: Kind/name: field: …</c>).</summary>
    [JsonPropertyName("warnings")] public List<string> Warnings { get; init; } = [];

    /// <summary>
    /// What to publish for a pass: the status it recorded, or (invalid input in <c>--once</c>,
    /// which records nothing) one made for the report alone.
    /// </summary>
    public static NodeStatus Of(SyncResult result, ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Status ?? new NodeStatus
        {
            Time = Timestamp(DateTimeOffset.UtcNow),
            Result = result.Outcome.ToString(),
            Summary = result.Summary,
            Generations = GenerationsOf(snapshot),
        };
    }

    /// <summary>Equal in everything but <see cref="Time"/>.</summary>
    public bool SameAs(NodeStatus other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Result == other.Result && Summary == other.Summary && RenderedHash == other.RenderedHash && LastReload == other.LastReload
            && Generations.SequenceEqual(other.Generations) && CaExpiry.SequenceEqual(other.CaExpiry) && Warnings.SequenceEqual(other.Warnings);
    }

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The version of every object in <paramref name="snapshot"/>: its generation, or its
    /// resourceVersion when it has none (ConfigMaps, whose resourceVersion changes with every edit).
    /// </summary>
    public static SortedDictionary<string, string> GenerationsOf(ClusterSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var seen = new SortedDictionary<string, string>(StringComparer.Ordinal);
        IEnumerable<(string Kind, KubeObject? Item)> all =
        [
            ("Image", snapshot.Image),
            ("ClusterVersion", snapshot.ClusterVersion),
            .. snapshot.ImageContentSourcePolicies.Select(i => ("ImageContentSourcePolicy", (KubeObject?)i)),
            .. snapshot.ImageDigestMirrorSets.Select(i => ("ImageDigestMirrorSet", (KubeObject?)i)),
            .. snapshot.ImageTagMirrorSets.Select(i => ("ImageTagMirrorSet", (KubeObject?)i)),
            .. snapshot.ConfigMaps.Select(i => ("ConfigMap", (KubeObject?)i)),
        ];
        foreach (var (kind, item) in all)
        {
            if (item is null)
            {
                continue;
            }
            var key = item.Namespace.Length == 0 ? $"{kind}/{item.Name}" : $"{kind}/{item.Namespace}/{item.Name}";
            seen[key] = item.Metadata?.Generation?.ToString(CultureInfo.InvariantCulture) ?? item.Metadata?.ResourceVersion ?? "";
        }
        return seen;
    }
}

/// <summary>One run of the reload command and its health check.</summary>
public sealed record ReloadRecord(
    [property: JsonPropertyName("time")] string Time,
    [property: JsonPropertyName("succeeded")] bool Succeeded,
    [property: JsonPropertyName("runs")] int Runs);

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(NodeStatus))]
internal sealed partial class NodeStatusJsonContext : JsonSerializerContext;
