using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary>Source-generated (trim-safe) System.Text.Json metadata for every watched kind.</summary>
[JsonSourceGenerationOptions(
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    // Manifests are depth-checked when read (MaxYamlDepth, at most 1000); decoding must not undercut that.
    MaxDepth = 1001)]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(ClusterVersion))]
[JsonSerializable(typeof(ImageContentSourcePolicy))]
[JsonSerializable(typeof(ImageDigestMirrorSet))]
[JsonSerializable(typeof(ImageTagMirrorSet))]
[JsonSerializable(typeof(ConfigMap))]
public sealed partial class ResourceJsonContext : JsonSerializerContext;
