using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary><c>v1</c> ConfigMap; node-agent reads the CA bundles in <c>data</c> and <c>binaryData</c>.</summary>
public sealed record ConfigMap : KubeObject
{
    [JsonPropertyName("data")] public IReadOnlyDictionary<string, string?>? Data { get; init; }

    /// <summary>Base64 in JSON; System.Text.Json decodes it into bytes.</summary>
    [JsonPropertyName("binaryData")] public IReadOnlyDictionary<string, byte[]?>? BinaryData { get; init; }
}
