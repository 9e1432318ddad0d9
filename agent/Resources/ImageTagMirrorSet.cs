using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary><c>config.openshift.io/v1</c> ImageTagMirrorSet: mirrors used for pulls by tag.</summary>
public sealed record ImageTagMirrorSet : KubeObject
{
    [JsonPropertyName("spec")] public ImageTagMirrorSetSpec? Spec { get; init; }
}

public sealed record ImageTagMirrorSetSpec
{
    [JsonPropertyName("imageTagMirrors")] public IReadOnlyList<ImageMirrors?>? ImageTagMirrors { get; init; }
}
