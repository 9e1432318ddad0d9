using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NodeAgent.Resources;

namespace NodeAgent.Cluster;

/// <summary>What loading manifests produced: the snapshot, or the reasons it is invalid.</summary>
public sealed record ManifestLoadResult(ClusterSnapshot Snapshot, IReadOnlyList<string> Errors, IReadOnlyList<string> Ignored);

/// <summary>
/// <c>--manifests PATH</c>: reads a file or a directory tree of YAML (multi-document) and JSON
/// files, unpacks <c>kind: List</c>, keeps the watched objects and ignores the rest. Every
/// problem names the file and line; a duplicate object names both files.
/// </summary>
public sealed class ManifestLoader
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    private readonly ManifestLimits _limits;
    private readonly List<string> _errors = [];
    private readonly List<string> _ignored = [];
    private readonly Dictionary<(WatchedKind, string, string), string> _seen = [];
    private ImageConfig? _image;
    private ClusterVersion? _clusterVersion;
    private readonly List<ImageContentSourcePolicy> _icsps = [];
    private readonly List<ImageDigestMirrorSet> _idmss = [];
    private readonly List<ImageTagMirrorSet> _itmss = [];
    private readonly List<ConfigMap> _configMaps = [];

    private ManifestLoader(ManifestLimits limits) => _limits = limits;

    public static ManifestLoadResult Load(string path, ManifestLimits limits)
    {
        var loader = new ManifestLoader(limits);
        foreach (var file in Files(path, loader._errors))
        {
            loader.LoadFile(file);
        }
        var snapshot = new ClusterSnapshot
        {
            Image = loader._image,
            ClusterVersion = loader._clusterVersion,
            ImageContentSourcePolicies = loader._icsps,
            ImageDigestMirrorSets = loader._idmss,
            ImageTagMirrorSets = loader._itmss,
            ConfigMaps = loader._configMaps,
        };
        return new ManifestLoadResult(snapshot, loader._errors, loader._ignored);
    }

    private static List<string> Files(string path, List<string> errors)
    {
        if (File.Exists(path))
        {
            return [path];
        }
        if (!Directory.Exists(path))
        {
            errors.Add($"{path}: --manifests: no such file or directory");
            return [];
        }
        var files = new List<string>();
        Collect(path, files);
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    // Names starting with ".." are a mounted ConfigMap's internal entries; symlinked directories
    // are not entered, so a link cycle cannot loop.
    private static void Collect(string directory, List<string> files)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry.Name.StartsWith("..", StringComparison.Ordinal))
            {
                continue;
            }
            if (entry is DirectoryInfo dir)
            {
                if (dir.LinkTarget is null)
                {
                    Collect(dir.FullName, files);
                }
            }
            else if (Extensions.Any(e => entry.Name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            {
                files.Add(Path.Combine(directory, entry.Name));
            }
        }
    }

    private void LoadFile(string file)
    {
        try
        {
            var info = new FileInfo(file);
            if (info.Length > _limits.MaxFileBytes)
            {
                throw new ManifestException(file, $"the file is {info.Length} bytes, over the limit of {_limits.MaxFileBytes} (MaxManifestBytes)");
            }
            var text = File.ReadAllText(file, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
            foreach (var document in Parse(file, text))
            {
                AddDocument(file, document);
            }
        }
        catch (ManifestException e)
        {
            _errors.Add(e.Message);
        }
        catch (DecoderFallbackException)
        {
            _errors.Add($"{file}: the file is not valid UTF-8 text");
        }
        catch (IOException e)
        {
            _errors.Add($"{file}: cannot read: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            _errors.Add($"{file}: cannot read: {e.Message}");
        }
    }

    private IEnumerable<YamlDocument> Parse(string file, string text)
    {
        if (!file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return YamlToJson.Read(file, text, _limits);
        }
        try
        {
            var node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = _limits.MaxDepth });
            return node is null ? [] : [new YamlDocument(node, 1)];
        }
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            var reason = e.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                ? $"JSON nested deeper than {_limits.MaxDepth} levels (MaxYamlDepth)"
                : $"invalid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}";
            throw new ManifestException($"{file}:{line}", reason);
        }
    }

    private void AddDocument(string file, YamlDocument document)
    {
        var location = $"{file}:{document.Line}";
        if (document.Node is not JsonObject obj)
        {
            throw new ManifestException(location, "a manifest document must be an object (a Kubernetes object or a List)");
        }
        var kind = obj["kind"] is JsonValue k && k.TryGetValue<string>(out var ks) ? ks : null;
        if (kind is not null && kind.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray items)
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is not JsonObject item)
                {
                    throw new ManifestException(location, $"items[{i}]: expected an object");
                }
                AddObject($"{location}: items[{i}]", item);
            }
            return;
        }
        AddObject(location, obj);
    }

    private void AddObject(string location, JsonObject obj)
    {
        var kind = obj["kind"] is JsonValue k && k.TryGetValue<string>(out var ks) ? ks : null;
        var apiVersion = obj["apiVersion"] is JsonValue a && a.TryGetValue<string>(out var avs) ? avs : null;
        var watched = ObjectDecoder.Classify(apiVersion, kind);
        if (watched is null)
        {
            _ignored.Add($"{location}: {apiVersion ?? "(no apiVersion)"} {kind ?? "(no kind)"} is not read by node-agent");
            return;
        }
        KubeObject decoded;
        var subject = $"{kind}/{(obj["metadata"] as JsonObject)?["name"]}";
        try
        {
            decoded = ObjectDecoder.Decode(watched.Value, obj);
        }
        catch (ObjectDecodeException e)
        {
            _errors.Add($"{location}: {subject}: {(e.Field.Length > 0 ? e.Field + ": " : "")}{e.Message}");
            return;
        }
        if (decoded.Name.Length == 0)
        {
            _errors.Add($"{location}: {kind}: metadata.name: required");
            return;
        }
        if (!Counts(watched.Value, decoded, location))
        {
            return;
        }
        var ns = watched == WatchedKind.ConfigMap ? decoded.Namespace : "";
        if (_seen.TryGetValue((watched.Value, ns, decoded.Name), out var first))
        {
            _errors.Add($"{location}: {kind}/{(ns.Length > 0 ? ns + "/" : "")}{decoded.Name} is defined twice, here and in {first}");
            return;
        }
        _seen[(watched.Value, ns, decoded.Name)] = location;
        switch (decoded)
        {
            case ImageConfig image: _image = image; break;
            case ClusterVersion version: _clusterVersion = version; break;
            case ImageContentSourcePolicy icsp: _icsps.Add(icsp); break;
            case ImageDigestMirrorSet idms: _idmss.Add(idms); break;
            case ImageTagMirrorSet itms: _itmss.Add(itms); break;
            case ConfigMap configMap: _configMaps.Add(configMap); break;
        }
    }

    // Only the singletons MCO reads count: Image "cluster" and ClusterVersion "version".
    private bool Counts(WatchedKind kind, KubeObject decoded, string location)
    {
        var wanted = kind switch
        {
            WatchedKind.Image => ImageConfig.ClusterName,
            WatchedKind.ClusterVersion => ClusterVersion.ClusterName,
            _ => null,
        };
        if (wanted is null || decoded.Name == wanted)
        {
            return true;
        }
        _ignored.Add($"{location}: {decoded.Kind}/{decoded.Name} is ignored: only the object named \"{wanted}\" is read");
        return false;
    }
}
