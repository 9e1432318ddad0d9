using System.Text.Json.Nodes;
using NodeAgent.Resources;

namespace NodeAgent.Rendering;

/// <summary>Everything a render reads: the cluster's objects plus the node's base settings.</summary>
public sealed record ClusterInputs
{
    /// <summary>MCO's template search list (<c>templates/*/01-*-container-runtime/_base</c>).</summary>
    public static readonly IReadOnlyList<string> DefaultBaseSearchRegistries = ["registry.access.redhat.com", "docker.io"];

    public ClusterSnapshot Snapshot { get; init; } = ClusterSnapshot.Empty;

    /// <summary><c>--release-image</c>: used instead of ClusterVersion's desired image when set.</summary>
    public string? ReleaseImageOverride { get; init; }

    public IReadOnlyList<string> BaseSearchRegistries { get; init; } = DefaultBaseSearchRegistries;

    /// <summary>The policy.json to edit; null means MCO's template (<see cref="PolicyRenderer.DefaultBasePolicy"/>).</summary>
    public JsonObject? BasePolicy { get; init; }
}

/// <summary>The bytes of every file a render produces, and what it found on the way.</summary>
public sealed record RenderResult(
    byte[] RegistriesConf,
    byte[] PolicyJson,
    byte[]? SearchDropIn,
    IReadOnlyList<Problem> Problems)
{
    public bool HasErrors => Problems.Any(p => p.IsError);

    /// <summary>The merged mirror sets and registry scopes the files were rendered from.</summary>
    public RegistryRules Rules { get; init; } = RegistryRules.Empty;
}
