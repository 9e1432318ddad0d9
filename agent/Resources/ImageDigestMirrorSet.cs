using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary><c>config.openshift.io/v1</c> ImageDigestMirrorSet: mirrors used for pulls by digest.</summary>
public sealed record ImageDigestMirrorSet : KubeObject
{
    [JsonPropertyName("spec")] public ImageDigestMirrorSetSpec? Spec { get; init; }
}

public sealed record ImageDigestMirrorSetSpec
{
    [JsonPropertyName("imageDigestMirrors")] public IReadOnlyList<ImageMirrors?>? ImageDigestMirrors { get; init; }
}

/// <summary>One source with its ordered mirrors; shared by ImageDigestMirrorSet and ImageTagMirrorSet.</summary>
public sealed record ImageMirrors
{
    [JsonPropertyName("source")] public string? Source { get; init; }
    [JsonPropertyName("mirrors")] public IReadOnlyList<string?>? Mirrors { get; init; }
    [JsonPropertyName("mirrorSourcePolicy")] public string? MirrorSourcePolicy { get; init; }
}
