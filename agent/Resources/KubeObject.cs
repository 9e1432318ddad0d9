using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary>The metadata every watched object carries; only the fields node-agent uses.</summary>
public sealed record ObjectMeta
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("namespace")] public string? Namespace { get; init; }
    [JsonPropertyName("resourceVersion")] public string? ResourceVersion { get; init; }
    [JsonPropertyName("generation")] public long? Generation { get; init; }
}

/// <summary>Common shape of a Kubernetes object: apiVersion, kind and metadata.</summary>
public abstract record KubeObject
{
    [JsonPropertyName("apiVersion")] public string? ApiVersion { get; init; }
    [JsonPropertyName("kind")] public string? Kind { get; init; }
    [JsonPropertyName("metadata")] public ObjectMeta? Metadata { get; init; }

    [JsonIgnore] public string Name => Metadata?.Name ?? "";
    [JsonIgnore] public string Namespace => Metadata?.Namespace ?? "";
}
