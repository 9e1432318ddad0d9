namespace NodeAgent.Cluster;

/// <summary>
/// One collection node-agent lists and watches: a kind, where it is served, and the one name
/// wanted when only one object counts (Image <c>cluster</c>, ClusterVersion <c>version</c>, a CA
/// ConfigMap), which becomes a field selector so the server sends nothing else.
/// </summary>
public sealed record WatchedResource(WatchedKind Kind, ResourceType Type, string? Name = null)
{
    public string? FieldSelector => Name is null ? null : $"metadata.name={Name}";

    /// <summary>The resource's plural: the metrics label, bounded to the handful of watched kinds.</summary>
    public string Label => Type.Plural;

    /// <summary>How logs name it: <c>ImageDigestMirrorSet</c>, <c>Image/cluster</c>, <c>ConfigMap openshift-config/ca</c>.</summary>
    public string Description => (Kind, Name) switch
    {
        (_, null) => Kind.ToString(),
        (WatchedKind.ConfigMap, _) => $"ConfigMap {Type.Namespace}/{Name}",
        _ => $"{Kind}/{Name}",
    };

    public override string ToString() => Description;
}
