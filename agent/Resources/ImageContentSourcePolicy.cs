using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary><c>operator.openshift.io/v1alpha1</c> ImageContentSourcePolicy: digest mirrors, no source policy.</summary>
public sealed record ImageContentSourcePolicy : KubeObject
{
    [JsonPropertyName("spec")] public ImageContentSourcePolicySpec? Spec { get; init; }
}

public sealed record ImageContentSourcePolicySpec
{
    [JsonPropertyName("repositoryDigestMirrors")] public IReadOnlyList<RepositoryDigestMirrors?>? RepositoryDigestMirrors { get; init; }
}

public sealed record RepositoryDigestMirrors
{
    [JsonPropertyName("source")] public string? Source { get; init; }
    [JsonPropertyName("mirrors")] public IReadOnlyList<string?>? Mirrors { get; init; }
}
