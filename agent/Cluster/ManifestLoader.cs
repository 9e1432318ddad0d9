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
            if (!RegularFile.IsRegular(file))
            {
                throw new ManifestException(file, "not a regular file (a FIFO, device, socket or broken link); not read");
            }
            var length = new FileInfo(file).Length;
            // Read with the same bound, in case the file grows between the size check and the read.
            var bytes = length <= _limits.MaxFileBytes ? RegularFile.ReadBounded(file, _limits.MaxFileBytes) : null;
            if (bytes is null)
            {
                throw new ManifestException(file, $"the file is {Math.Max(length, _limits.MaxFileBytes + 1)} bytes, over the limit of {_limits.MaxFileBytes} (MaxManifestBytes)");
            }
            var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            if (text.Length > 0 && text[0] == '\uFEFF')
            {
                text = text[1..];
            }
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
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = _limits.MaxDepth });
            // A file holding only null is an empty document, as in YAML.
            return document.RootElement.ValueKind == JsonValueKind.Null ? [] : [new YamlDocument(ToNode(file, document.RootElement), 1)];
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

    // JsonDocument keeps duplicate keys, where JsonNode would throw on first access; building the
    // nodes here turns a duplicate into invalid input, as it is for YAML.
    private static JsonNode ToNode(string file, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (obj.ContainsKey(property.Name))
                    {
                        throw new ManifestException($"{file}:1", $"duplicate key \"{property.Name}\"");
                    }
                    obj[property.Name] = property.Value.ValueKind == JsonValueKind.Null ? null : ToNode(file, property.Value);
                }
                return obj;
            case JsonValueKind.Array:
                var array = new JsonArray();
                foreach (var item in element.EnumerateArray())
                {
                    array.Add(item.ValueKind == JsonValueKind.Null ? null : ToNode(file, item));
                }
                return array;
            default:
                return JsonValue.Create(element.Clone())!;
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
            var listApiVersion = obj["apiVersion"] is JsonValue a && a.TryGetValue<string>(out var av) ? av : null;
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is not JsonObject item)
                {
                    throw new ManifestException(location, $"items[{i}]: expected an object");
                }
                ObjectDecoder.TakeTypeFromList(item, listApiVersion, kind);
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
        var name = (obj["metadata"] as JsonObject)?["name"] is JsonValue n && n.TryGetValue<string>(out var ns0) ? ns0 : null;
        if (IgnoredSingleton(watched.Value, name, location, kind))
        {
            return;
        }
        KubeObject decoded;
        var subject = name is null ? kind : $"{kind}/{name}";
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

    // Only the singletons MCO reads count: Image "cluster" and ClusterVersion "version". Others are
    // ignored before decoding, so a broken object that would be ignored cannot fail the load.
    private bool IgnoredSingleton(WatchedKind kind, string? name, string location, string? kindName)
    {
        var wanted = kind switch
        {
            WatchedKind.Image => ImageConfig.ClusterName,
            WatchedKind.ClusterVersion => ClusterVersion.ClusterName,
            _ => null,
        };
        if (wanted is null || name is null || name == wanted)
        {
            return false;
        }
        _ignored.Add($"{location}: {kindName}/{name} is ignored: only the object named \"{wanted}\" is read");
        return true;
    }
}
