namespace NodeAgent.Tests.Support;

/// <summary>Small builders for the manifests tests feed node-agent.</summary>
public static class Manifests
{
    public static string Image(string registrySourcesYaml) => $"""
        apiVersion: config.openshift.io/v1
        kind: Image
        metadata:
          name: cluster
        spec:
          registrySources:
        {Indent(registrySourcesYaml, 4)}
        """;

    public static string Idms(string name, string entriesYaml) => $"""
        apiVersion: config.openshift.io/v1
        kind: ImageDigestMirrorSet
        metadata:
          name: {name}
        spec:
          imageDigestMirrors:
        {Indent(entriesYaml, 4)}
        """;

    public static string Itms(string name, string entriesYaml) => $"""
        apiVersion: config.openshift.io/v1
        kind: ImageTagMirrorSet
        metadata:
          name: {name}
        spec:
          imageTagMirrors:
        {Indent(entriesYaml, 4)}
        """;

    public static string Icsp(string name, string entriesYaml) => $"""
        apiVersion: operator.openshift.io/v1alpha1
        kind: ImageContentSourcePolicy
        metadata:
          name: {name}
        spec:
          repositoryDigestMirrors:
        {Indent(entriesYaml, 4)}
        """;

    public static string ClusterVersion(string image) => $"""
        apiVersion: config.openshift.io/v1
        kind: ClusterVersion
        metadata:
          name: version
        status:
          desired:
            image: {image}
        """;

    /// <summary>Image/cluster naming <paramref name="configMapName"/> (in openshift-config) as additionalTrustedCA.</summary>
    public static string ImageWithTrustedCa(string configMapName) => $"""
        apiVersion: config.openshift.io/v1
        kind: Image
        metadata:
          name: cluster
        spec:
          additionalTrustedCA:
            name: {configMapName}
        """;

    /// <summary>A CA ConfigMap in openshift-config: each key (<c>host..port</c>) with its PEM as a block scalar.</summary>
    public static string CaConfigMap(string name, params (string Key, string Pem)[] data) => $"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {name}
          namespace: openshift-config
        data:
        {string.Join('\n', data.Select(d => $"  \"{d.Key}\": |\n" + Indent(d.Pem.TrimEnd('\n'), 4)))}
        """ + "\n";

    private static string Indent(string text, int spaces) =>
        string.Join('\n', text.Replace("\r", "", StringComparison.Ordinal).Split('\n').Select(l => l.Length == 0 ? l : new string(' ', spaces) + l));
}
