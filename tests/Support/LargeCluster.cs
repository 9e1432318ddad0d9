using System.Globalization;
using System.Text;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A large, realistic cluster for crash tests and benchmarks: 1,000 mirrored sources with 5
/// mirrors each, spread over 35 objects (15 IDMS, 10 ICSP, 10 ITMS), plus 25 insecure and 25
/// blocked scopes. Deterministic: the same arguments give the same files.
/// </summary>
public static class LargeCluster
{
    public const int Sources = 1000;
    public const int MirrorsPerSource = 5;

    /// <summary>Writes the manifests into <paramref name="directory"/>; <paramref name="variant"/> changes every mirror name.</summary>
    public static void Write(string directory, int variant = 0)
    {
        Directory.CreateDirectory(directory);
        var inv = CultureInfo.InvariantCulture;
        var objects = new (string Kind, string ApiVersion, string ListField, int Count)[]
        {
            ("ImageDigestMirrorSet", "config.openshift.io/v1", "imageDigestMirrors", 15),
            ("ImageContentSourcePolicy", "operator.openshift.io/v1alpha1", "repositoryDigestMirrors", 10),
            ("ImageTagMirrorSet", "config.openshift.io/v1", "imageTagMirrors", 10),
        };
        var totalObjects = objects.Sum(o => o.Count);
        var source = 0;
        var objectIndex = 0;
        foreach (var (kind, apiVersion, listField, count) in objects)
        {
            for (var i = 0; i < count; i++, objectIndex++)
            {
                var sb = new StringBuilder();
                sb.Append(inv, $"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: {kind.ToLowerInvariant()}-{i:D2}\nspec:\n  {listField}:\n");
                var share = (Sources / totalObjects) + (objectIndex < Sources % totalObjects ? 1 : 0);
                for (var s = 0; s < share; s++, source++)
                {
                    sb.Append(inv, $"    - source: registry{source % 40:D2}.example.com/team{source:D4}/app\n      mirrors:\n");
                    for (var m = 0; m < MirrorsPerSource; m++)
                    {
                        sb.Append(inv, $"        - mirror{m}-v{variant}.corp.example:5000/team{source:D4}/app\n");
                    }
                }
                File.WriteAllText(Path.Join(directory, $"{kind.ToLowerInvariant()}-{i:D2}.yaml"), sb.ToString());
            }
        }
        var image = new StringBuilder("apiVersion: config.openshift.io/v1\nkind: Image\nmetadata:\n  name: cluster\nspec:\n  registrySources:\n    insecureRegistries:\n");
        for (var i = 0; i < 25; i++)
        {
            image.Append(inv, $"      - insecure{i:D2}.lab.example:5000\n");
        }
        image.Append("    blockedRegistries:\n");
        for (var i = 0; i < 25; i++)
        {
            image.Append(inv, $"      - blocked{i:D2}.example.org\n");
        }
        File.WriteAllText(Path.Join(directory, "image-cluster.yaml"), image.ToString());
    }
}
