namespace NodeAgent.Resources;

/// <summary>
/// A complete view of every watched object at one moment. Rendering only ever starts from one of
/// these, never from a partial set.
/// </summary>
public sealed record ClusterSnapshot
{
    public static readonly ClusterSnapshot Empty = new();

    public ImageConfig? Image { get; init; }
    public ClusterVersion? ClusterVersion { get; init; }
    public IReadOnlyList<ImageContentSourcePolicy> ImageContentSourcePolicies { get; init; } = [];
    public IReadOnlyList<ImageDigestMirrorSet> ImageDigestMirrorSets { get; init; } = [];
    public IReadOnlyList<ImageTagMirrorSet> ImageTagMirrorSets { get; init; } = [];
    public IReadOnlyList<ConfigMap> ConfigMaps { get; init; } = [];
}
