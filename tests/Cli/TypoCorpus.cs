using System.Globalization;
using System.Text.RegularExpressions;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Cli;

/// <summary>What a mutation of the bundled examples must lead to.</summary>
public enum TypoOutcome
{
    /// <summary>Exit 2, an error naming the file (and the line, when the mutation is on one), nothing below the root changed.</summary>
    Refused,

    /// <summary>Exit 0 and exactly the files the unmutated examples render: the mistake changes nothing that matters.</summary>
    Harmless,
}

/// <summary>
/// One realistic mistake in an edited copy of examples/: which file, which line (1-based, 0 when
/// the mutation is not on one line), what it does to the copy, and what node-agent must answer.
/// </summary>
public sealed record TypoMutation(string Name, string File, int Line, TypoOutcome Outcome, Action<string> Apply);

/// <summary>
/// A corpus of the mistakes people make when they edit manifests by hand, generated from
/// examples/ itself so it follows the examples when they change: misspelt kinds, API groups and
/// versions; every field name at every level with a letter dropped; a field's case changed;
/// lines indented one level too deep or too shallow; wrong object names and namespaces; empty
/// and manifest-less directories. Controls that must keep working sit beside them: objects as
/// exported from a live cluster (status, managedFields, resourceVersion), unrelated kinds, and
/// every CRD field node-agent does not read.
/// </summary>
public static partial class TypoCorpus
{
    private static readonly string[] ExampleFiles = Directory.GetFiles(RepoPaths.Examples, "*.yaml")
        .Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    // Files holding the kinds node-agent reads (unrelated.yaml holds a Deployment).
    private static readonly string[] ReadFiles = ExampleFiles.Where(f => f != "unrelated.yaml").ToArray();

    public static IReadOnlyList<TypoMutation> All { get; } = Build();

    private static List<TypoMutation> Build()
    {
        var all = new List<TypoMutation>();
        all.AddRange(KindAndGroupSlips());
        all.AddRange(FieldNameSlips());
        all.AddRange(IndentationSlips());
        all.AddRange(NameAndNamespaceSlips());
        all.AddRange(DirectorySlips());
        all.AddRange(Controls());
        return all;
    }

    private static IEnumerable<TypoMutation> KindAndGroupSlips()
    {
        foreach (var file in ReadFiles)
        {
            var (kindLine, kind) = FirstMatch(file, KindLine());
            var (apiLine, apiVersion) = FirstMatch(file, ApiVersionLine());
            yield return Replace($"{file}: kind in lower case", file, kindLine, $"kind: {kind}", $"kind: {kind.ToLowerInvariant()}");
            yield return Replace($"{file}: kind plural", file, kindLine, $"kind: {kind}", $"kind: {kind}s");
            yield return Replace($"{file}: kind with a letter dropped", file, kindLine, $"kind: {kind}", $"kind: {kind.Remove(kind.Length / 2, 1)}");
            yield return Replace($"{file}: kind with two letters swapped", file, kindLine, $"kind: {kind}", $"kind: {Swap(kind, 1)}");
            var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                yield return Replace($"{file}: core apiVersion v2", file, apiLine, $"apiVersion: {apiVersion}", "apiVersion: v2");
                continue;
            }
            var group = apiVersion[..slash];
            yield return Replace($"{file}: API group letters swapped", file, apiLine, $"apiVersion: {apiVersion}", $"apiVersion: {Swap(group, group.IndexOf("shift", StringComparison.Ordinal) + 2)}{apiVersion[slash..]}");
            yield return Replace($"{file}: API group .com", file, apiLine, $"apiVersion: {apiVersion}", $"apiVersion: {group.Replace(".io", ".com", StringComparison.Ordinal)}{apiVersion[slash..]}");
            yield return Replace($"{file}: apiVersion without the version", file, apiLine, $"apiVersion: {apiVersion}", $"apiVersion: {group}");
            yield return Replace($"{file}: apiVersion v1beta1", file, apiLine, $"apiVersion: {apiVersion}", $"apiVersion: {group}/v1beta1");
        }
        yield return Replace("icsp: the v1 of another group", "icsp-oc-mirror.yaml", 2, "operator.openshift.io/v1alpha1", "operator.openshift.io/v1");
        yield return Replace("idms: the operator group", "idms-release.yaml", 1, "config.openshift.io/v1", "operator.openshift.io/v1alpha1");
        yield return Replace("image: apiVersion v2", "image-cluster.yaml", 1, "config.openshift.io/v1", "config.openshift.io/v2");
    }

    // Every mapping key of every example (but the free maps: labels, ConfigMap data) with a letter dropped.
    private static IEnumerable<TypoMutation> FieldNameSlips()
    {
        foreach (var file in ReadFiles)
        {
            var lines = Lines(file);
            var freeMapIndent = -1;
            var inStatus = false;
            for (var i = 0; i < lines.Length; i++)
            {
                var key = KeyLine().Match(lines[i]);
                if (!key.Success)
                {
                    continue;
                }
                var indent = key.Groups["indent"].Length + key.Groups["dash"].Length;
                // status may hold anything (an exported object's status is the server's), so a
                // slip below it is not a field error; status itself is.
                inStatus = indent == 0 ? key.Groups["key"].Value == "status" : inStatus;
                if (inStatus && indent > 0)
                {
                    continue;
                }
                if (freeMapIndent >= 0 && indent > freeMapIndent)
                {
                    continue;
                }
                freeMapIndent = -1;
                var name = key.Groups["key"].Value;
                if (name is "labels" or "data" or "annotations")
                {
                    freeMapIndent = indent;
                }
                if (name is "apiVersion" or "kind")
                {
                    continue;
                }
                var slip = name.Length > 2 ? name[..^1] : name + "x";
                yield return ReplaceKey($"{file}:{i + 1}: field {name} misspelt {slip}", file, i + 1, name, slip);
                if (name.Length > 4 && char.IsLower(name[0]))
                {
                    yield return ReplaceKey($"{file}:{i + 1}: field {name} capitalised", file, i + 1, name, char.ToUpperInvariant(name[0]) + name[1..]);
                }
            }
        }
        // A label's key is free text: a slip there changes nothing node-agent renders.
        yield return new("icsp: a label key misspelt", "icsp-oc-mirror.yaml", 0, TypoOutcome.Harmless,
            dir => Edit(dir, "icsp-oc-mirror.yaml", t => t.Replace("operators.openshift.org/catalog: \"false\"", "operators.openshift.org/catalg: \"false\"", StringComparison.Ordinal)));
    }

    private static IEnumerable<TypoMutation> IndentationSlips()
    {
        // The parser or the schema catches most; a lone child indented deeper means the same in YAML.
        var cases = new (string File, string Line, int Delta, TypoOutcome Outcome)[]
        {
            ("image-cluster.yaml", "  additionalTrustedCA:", 2, TypoOutcome.Refused),
            ("image-cluster.yaml", "    name: registry-cas", -2, TypoOutcome.Refused),
            ("image-cluster.yaml", "    name: registry-cas", 2, TypoOutcome.Harmless),
            ("image-cluster.yaml", "    blockedRegistries:", -2, TypoOutcome.Refused),
            ("image-cluster.yaml", "    blockedRegistries:", 2, TypoOutcome.Refused),
            ("image-cluster.yaml", "    containerRuntimeSearchRegistries:", 2, TypoOutcome.Refused),
            ("image-cluster.yaml", "  registrySources:", -2, TypoOutcome.Refused),
            ("idms-release.yaml", "      mirrorSourcePolicy: NeverContactSource", -2, TypoOutcome.Refused),
            ("idms-release.yaml", "      mirrorSourcePolicy: NeverContactSource", -4, TypoOutcome.Refused),
            ("idms-release.yaml", "      mirrorSourcePolicy: NeverContactSource", -6, TypoOutcome.Refused),
            ("idms-release.yaml", "  imageDigestMirrors:", -2, TypoOutcome.Refused),
            ("idms-release.yaml", "        - mirror.corp.example:5000/ubi9", -2, TypoOutcome.Harmless),
            ("itms-tools.yaml", "  imageTagMirrors:", 2, TypoOutcome.Harmless),
            ("itms-tools.yaml", "  imageTagMirrors:", -2, TypoOutcome.Refused),
            ("cluster-version.yaml", "spec:", 2, TypoOutcome.Refused),
            ("cluster-version.yaml", "  clusterID:", 2, TypoOutcome.Harmless),
            ("cluster-version.yaml", "  clusterID:", -2, TypoOutcome.Refused),
            ("ca-configmap.yaml", "  namespace: openshift-config", -2, TypoOutcome.Refused),
            ("ca-configmap.yaml", "data:", 2, TypoOutcome.Refused),
            ("icsp-oc-mirror.yaml", "  repositoryDigestMirrors:", -2, TypoOutcome.Refused),
        };
        foreach (var (file, prefix, delta, outcome) in cases)
        {
            var line = LineStartingWith(file, prefix);
            // Where the parser notices depends on what follows, so only the file is pinned.
            yield return new($"{file}:{line}: {prefix.Trim()} indented {(delta > 0 ? "+" : "")}{delta}", file, 0, outcome,
                dir => EditLine(dir, file, line, l => delta > 0 ? new string(' ', delta) + l : l[-delta..]));
        }
        yield return new("image-cluster.yaml:6: a tab as indentation", "image-cluster.yaml", 6, TypoOutcome.Refused,
            dir => EditLine(dir, "image-cluster.yaml", 6, l => "\t" + l.TrimStart(' ')));
    }

    private static IEnumerable<TypoMutation> NameAndNamespaceSlips()
    {
        yield return Replace("image named Cluster", "image-cluster.yaml", 4, "name: cluster", "name: Cluster");
        yield return Replace("image named \"cluster \"", "image-cluster.yaml", 4, "name: cluster", "name: \"cluster \"");
        yield return Replace("image named clustr", "image-cluster.yaml", 4, "name: cluster", "name: clustr");
        yield return Replace("clusterversion named Version", "cluster-version.yaml", 4, "name: version", "name: Version");
        yield return Replace("ca configmap namespace openshift_config", "ca-configmap.yaml", 7, "namespace: openshift-config", "namespace: openshift_config");
        yield return Replace("ca configmap namespace openshift-confg", "ca-configmap.yaml", 7, "namespace: openshift-config", "namespace: openshift-confg");
        yield return new("ca configmap without a namespace", "ca-configmap.yaml", 6, TypoOutcome.Refused,
            dir => Edit(dir, "ca-configmap.yaml", t => t.Replace("  namespace: openshift-config\n", "", StringComparison.Ordinal)));
        yield return Replace("ca configmap named registry_cas", "ca-configmap.yaml", 6, "name: registry-cas", "name: registry_cas");
        yield return Replace("image names the ca registry-ca", "ca-configmap.yaml", 6, "    name: registry-cas", "    name: registry-ca", editing: "image-cluster.yaml");
    }

    private static IEnumerable<TypoMutation> DirectorySlips()
    {
        yield return new("an empty directory", "", 0, TypoOutcome.Refused, dir => DeleteFiles(dir, keep: null));
        yield return new("a directory of notes only", "", 0, TypoOutcome.Refused, dir =>
        {
            DeleteFiles(dir, keep: null);
            System.IO.File.WriteAllText(Path.Join(dir, "notes.txt"), "mirrors: see the wiki\n");
        });
        yield return new("a directory holding only unrelated kinds", "", 0, TypoOutcome.Refused, dir => DeleteFiles(dir, keep: "unrelated.yaml"));
        yield return new("the manifests moved one directory down", "", 0, TypoOutcome.Harmless, dir =>
        {
            var nested = Directory.CreateDirectory(Path.Join(dir, "cluster")).FullName;
            foreach (var file in Directory.GetFiles(dir))
            {
                System.IO.File.Move(file, Path.Join(nested, Path.GetFileName(file)));
            }
        });
        yield return new("the examples in one multi-document file", "", 0, TypoOutcome.Harmless, dir =>
        {
            var files = Directory.GetFiles(dir, "*.yaml").Order(StringComparer.Ordinal).ToList();
            var all = string.Join("\n---\n", files.Select(f => System.IO.File.ReadAllText(f).TrimEnd('\n'))) + "\n";
            files.ForEach(System.IO.File.Delete);
            System.IO.File.WriteAllText(Path.Join(dir, "all.yaml"), all);
        });
    }

    private static IEnumerable<TypoMutation> Controls()
    {
        yield return new("control: every object as exported from a live cluster", "", 0, TypoOutcome.Harmless, dir =>
        {
            foreach (var file in ReadFiles)
            {
                Edit(dir, file, t => Exported(t));
            }
        });
        yield return new("control: unrelated kinds beside the examples", "", 0, TypoOutcome.Harmless, dir =>
            System.IO.File.WriteAllText(Path.Join(dir, "more-unrelated.yaml"), """
                apiVersion: image.openshift.io/v1
                kind: ImageStream
                metadata: {name: tools, namespace: default}
                spec: {lookupPolicy: {local: false}}
                ---
                apiVersion: machineconfiguration.openshift.io/v1
                kind: MachineConfig
                metadata: {name: 99-worker-registries}
                spec: {config: {ignition: {version: 3.2.0}}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: pull-secret, namespace: openshift-config}
                type: kubernetes.io/dockerconfigjson
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: registry-cas, namespace: my-app}
                data: {anything: here}
                ---
                apiVersion: config.openshift.io/v1
                kind: ImagePolicy
                metadata: {name: p, namespace: default}
                spec: {scopes: [quay.io/team]}
                """));
        yield return new("control: every Image and ClusterVersion field of the CRDs", "", 0, TypoOutcome.Harmless, dir =>
        {
            Edit(dir, "image-cluster.yaml", t => ReplaceOnce(t, "\nspec:\n", "\n" + """
                spec:
                  allowedRegistriesForImport:
                    - domainName: quay.io
                      insecure: false
                  externalRegistryHostnames: [registry.apps.corp.example]
                  imageStreamImportMode: PreserveOriginal

                """, "image-cluster.yaml"));
            Edit(dir, "cluster-version.yaml", t => ReplaceOnce(t, "\nspec:\n", "\n" + """
                spec:
                  channel: stable-4.17
                  upstream: https://updates.corp.example/graph
                  capabilities: {baselineCapabilitySet: vCurrent, additionalEnabledCapabilities: [Console]}
                  desiredUpdate: {version: 4.17.3, image: quay.io/openshift-release-dev/ocp-release@sha256:4f4f, force: false, architecture: ""}
                  overrides: [{kind: Deployment, group: apps, name: x, namespace: y, unmanaged: true}]
                  signatureStores: [{url: "https://sigs.corp.example", ca: {name: sig-ca}}]

                """, "cluster-version.yaml"));
        });
        yield return new("control: a ConfigMap that is immutable and has binaryData", "", 0, TypoOutcome.Harmless, dir =>
            Edit(dir, "ca-configmap.yaml", t => ReplaceOnce(t, "\ndata:\n", "\nimmutable: true\nbinaryData: {}\ndata:\n", "ca-configmap.yaml")));
    }

    // What `oc get -o yaml` adds: server-set metadata, managedFields and a status of its own.
    private static string Exported(string text)
    {
        var withMetadata = MetadataLine().Replace(text, """
            metadata:
              creationTimestamp: "2026-11-20T10:00:00Z"
              generation: 3
              resourceVersion: "48213"
              uid: 5b1e0c7e-2f6b-4a59-9d38-1f0c2a7d9e11
              annotations:
                kubectl.kubernetes.io/last-applied-configuration: '{"x": 1}'
              managedFields:
              - apiVersion: config.openshift.io/v1
                fieldsType: FieldsV1
                fieldsV1: {"f:spec": {".": {}}}
                manager: kubectl-client-side-apply
                operation: Update
                time: "2026-11-20T10:00:00Z"

            """);
        if (text.Contains("kind: ConfigMap", StringComparison.Ordinal))
        {
            return withMetadata;
        }
        return withMetadata.Contains("\nstatus:", StringComparison.Ordinal)
            ? withMetadata.Replace("\nstatus:\n", "\nstatus:\n  conditions: [{type: Available, status: \"True\"}]\n", StringComparison.Ordinal)
            : withMetadata.TrimEnd('\n') + "\nstatus:\n  observedGeneration: 3\n  anything: {goes: [here]}\n";
    }

    // A refused edit of `editing` (default: the file the error must name, at `line`).
    private static TypoMutation Replace(string name, string file, int line, string from, string to, string? editing = null)
    {
        var target = editing ?? file;
        return new(name, file, line, TypoOutcome.Refused, dir => Edit(dir, target, t => ReplaceOnce(t, from, to, target)));
    }

    private static TypoMutation ReplaceKey(string name, string file, int line, string key, string slip) =>
        new(name, file, line, TypoOutcome.Refused, dir => EditLine(dir, file, line, l => ReplaceOnce(l, key + ":", slip + ":", file)));

    private static string ReplaceOnce(string text, string from, string to, string file)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        if (at < 0)
        {
            throw new InvalidOperationException($"examples/{file} no longer holds {from}; update the typo corpus");
        }
        return text[..at] + to + text[(at + from.Length)..];
    }

    private static void DeleteFiles(string dir, string? keep)
    {
        foreach (var file in Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != keep))
        {
            System.IO.File.Delete(file);
        }
    }

    private static void Edit(string dir, string file, Func<string, string> change)
    {
        var path = Path.Join(dir, file);
        System.IO.File.WriteAllText(path, change(System.IO.File.ReadAllText(path)));
    }

    private static void EditLine(string dir, string file, int line, Func<string, string> change) =>
        Edit(dir, file, t =>
        {
            var lines = t.Split('\n');
            lines[line - 1] = change(lines[line - 1]);
            return string.Join('\n', lines);
        });

    private static string[] Lines(string file) => System.IO.File.ReadAllText(Path.Join(RepoPaths.Examples, file)).Split('\n');

    private static int LineStartingWith(string file, string prefix)
    {
        var index = Array.FindIndex(Lines(file), l => l.StartsWith(prefix, StringComparison.Ordinal));
        return index >= 0 ? index + 1 : throw new InvalidOperationException($"examples/{file} has no line starting {prefix}; update the typo corpus");
    }

    private static (int Line, string Value) FirstMatch(string file, Regex pattern)
    {
        var lines = Lines(file);
        for (var i = 0; i < lines.Length; i++)
        {
            if (pattern.Match(lines[i]) is { Success: true } match)
            {
                return (i + 1, match.Groups["value"].Value);
            }
        }
        throw new InvalidOperationException($"examples/{file} has no {pattern} line");
    }

    private static string Swap(string s, int at) => s[..at] + s[at + 1] + s[at] + s[(at + 2)..];

    public static string Describe(TypoMutation m) => string.Create(CultureInfo.InvariantCulture, $"{m.Name} → {m.Outcome}");

    [GeneratedRegex("^kind: (?<value>\\S+)$", RegexOptions.CultureInvariant)]
    private static partial Regex KindLine();

    [GeneratedRegex("^apiVersion: (?<value>\\S+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ApiVersionLine();

    [GeneratedRegex("^(?<indent> *)(?<dash>- )?(?<key>[A-Za-z][A-Za-z0-9]*):( |$)", RegexOptions.CultureInvariant)]
    private static partial Regex KeyLine();

    [GeneratedRegex("^metadata:\\n", RegexOptions.CultureInvariant | RegexOptions.Multiline)]
    private static partial Regex MetadataLine();
}
