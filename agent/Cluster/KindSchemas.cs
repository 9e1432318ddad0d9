using static NodeAgent.Cluster.FieldSchema;

namespace NodeAgent.Cluster;

/// <summary>
/// The fields each watched kind defines, from its CRD in openshift/api (Image, ClusterVersion,
/// ImageDigestMirrorSet, ImageTagMirrorSet in config.openshift.io/v1; ImageContentSourcePolicy in
/// operator.openshift.io/v1alpha1; the union over the feature sets) and from the core API for
/// ConfigMap and ObjectMeta. It lists every field the API server accepts, including those
/// node-agent does not read, so a manifest that <c>oc apply</c> takes is never refused here;
/// <c>status</c> may hold anything, so objects exported from a live cluster load as they are.
/// </summary>
public static class KindSchemas
{
    /// <summary>ObjectMeta as <c>kubectl apply</c>'s strict validation knows it.</summary>
    public static readonly FieldSchema Metadata = Record(
        ("name", Scalar), ("generateName", Scalar), ("namespace", Scalar), ("selfLink", Scalar), ("uid", Scalar),
        ("resourceVersion", Scalar), ("generation", Scalar), ("creationTimestamp", Scalar),
        ("deletionTimestamp", Scalar), ("deletionGracePeriodSeconds", Scalar),
        ("labels", MapOf(Scalar)), ("annotations", MapOf(Scalar)),
        ("ownerReferences", ArrayOf(RecordOfScalars("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"))),
        ("finalizers", Strings),
        ("managedFields", ArrayOf(Record(
            ("manager", Scalar), ("operation", Scalar), ("apiVersion", Scalar), ("time", Scalar),
            ("fieldsType", Scalar), ("fieldsV1", Any), ("subresource", Scalar)))));

    private static FieldSchema CustomResource(FieldSchema spec) =>
        Record(("apiVersion", Scalar), ("kind", Scalar), ("metadata", Metadata), ("spec", spec), ("status", Any));

    public static readonly FieldSchema Image = CustomResource(Record(
        ("additionalTrustedCA", RecordOfScalars("name")),
        ("allowedRegistriesForImport", ArrayOf(RecordOfScalars("domainName", "insecure"))),
        ("externalRegistryHostnames", Strings),
        ("imageStreamImportMode", Scalar),
        ("registrySources", Record(
            ("allowedRegistries", Strings), ("blockedRegistries", Strings),
            ("containerRuntimeSearchRegistries", Strings), ("insecureRegistries", Strings)))));

    public static readonly FieldSchema ClusterVersion = CustomResource(Record(
        ("capabilities", Record(("additionalEnabledCapabilities", Strings), ("baselineCapabilitySet", Scalar))),
        ("channel", Scalar),
        ("clusterID", Scalar),
        ("desiredUpdate", Record(
            ("acceptRisks", ArrayOf(RecordOfScalars("name"))), ("architecture", Scalar), ("force", Scalar),
            ("image", Scalar), ("mode", Scalar), ("version", Scalar))),
        ("overrides", ArrayOf(RecordOfScalars("group", "kind", "name", "namespace", "unmanaged"))),
        ("signatureStores", ArrayOf(Record(("ca", RecordOfScalars("name")), ("url", Scalar)))),
        ("upstream", Scalar)));

    private static readonly FieldSchema MirrorSet = ArrayOf(Record(
        ("source", Scalar), ("mirrors", Strings), ("mirrorSourcePolicy", Scalar)));

    public static readonly FieldSchema ImageDigestMirrorSet = CustomResource(Record(("imageDigestMirrors", MirrorSet)));

    public static readonly FieldSchema ImageTagMirrorSet = CustomResource(Record(("imageTagMirrors", MirrorSet)));

    public static readonly FieldSchema ImageContentSourcePolicy = CustomResource(Record(
        ("repositoryDigestMirrors", ArrayOf(Record(("source", Scalar), ("mirrors", Strings))))));

    public static readonly FieldSchema ConfigMap = Record(
        ("apiVersion", Scalar), ("kind", Scalar), ("metadata", Metadata),
        ("data", MapOf(Scalar)), ("binaryData", MapOf(Scalar)), ("immutable", Scalar));

    public static FieldSchema For(WatchedKind kind) => kind switch
    {
        WatchedKind.Image => Image,
        WatchedKind.ClusterVersion => ClusterVersion,
        WatchedKind.ImageContentSourcePolicy => ImageContentSourcePolicy,
        WatchedKind.ImageDigestMirrorSet => ImageDigestMirrorSet,
        WatchedKind.ImageTagMirrorSet => ImageTagMirrorSet,
        WatchedKind.ConfigMap => ConfigMap,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
