using System.Text.Json.Serialization;

namespace NodeAgent.Resources;

/// <summary><c>config.openshift.io/v1</c> Image; only the object named <c>cluster</c> counts.</summary>
public sealed record ImageConfig : KubeObject
{
    public const string ClusterName = "cluster";

    [JsonPropertyName("spec")] public ImageSpec? Spec { get; init; }
}

public sealed record ImageSpec
{
    [JsonPropertyName("registrySources")] public RegistrySources? RegistrySources { get; init; }
    [JsonPropertyName("additionalTrustedCA")] public ConfigMapNameReference? AdditionalTrustedCA { get; init; }
}

/// <summary>
/// The registry lists of the Image spec. A list that is absent or null stays null:
/// for <see cref="ContainerRuntimeSearchRegistries"/> absent and empty mean different things.
/// </summary>
public sealed record RegistrySources
{
    [JsonPropertyName("insecureRegistries")] public IReadOnlyList<string?>? InsecureRegistries { get; init; }
    [JsonPropertyName("blockedRegistries")] public IReadOnlyList<string?>? BlockedRegistries { get; init; }
    [JsonPropertyName("allowedRegistries")] public IReadOnlyList<string?>? AllowedRegistries { get; init; }
    [JsonPropertyName("containerRuntimeSearchRegistries")] public IReadOnlyList<string?>? ContainerRuntimeSearchRegistries { get; init; }
}

public sealed record ConfigMapNameReference
{
    [JsonPropertyName("name")] public string? Name { get; init; }
}
