using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary><c>config.openshift.io/v1</c> ClusterVersion; only <c>version</c> counts, for its release image.</summary>
public sealed record ClusterVersion : KubeObject
{
    public const string ClusterName = "version";

    [JsonPropertyName("status")] public ClusterVersionStatus? Status { get; init; }
}

public sealed record ClusterVersionStatus
{
    [JsonPropertyName("desired")] public Release? Desired { get; init; }
}

public sealed record Release
{
    [JsonPropertyName("image")] public string? Image { get; init; }
}
