using System.Text;
using System.Text.Json.Nodes;
using NodeAgent.Rendering;
using NodeAgent.Resources;

using NodeAgent.Text;

namespace NodeAgent.Cluster;

/// <summary>What loading manifests produced: the snapshot, or the reasons it is invalid.</summary>
public sealed record ManifestLoadResult(ClusterSnapshot Snapshot, IReadOnlyList<string> Errors, IReadOnlyList<string> Ignored)
{
    /// <summary>Where each object read was written, for the renderer's problems.</summary>
    public ManifestLocations Locations { get; init; } = ManifestLocations.None;

    /// <summary>
    /// Whether the files held any image configuration: Image/cluster, ClusterVersion/version, a
    /// mirror set, or the managed registry CA. A CA ConfigMap alone configures nothing.
    /// </summary>
    public bool HasImageConfiguration(WatchScope scope) =>
        Snapshot.Image is not null || Snapshot.ClusterVersion is not null || Snapshot.ImageContentSourcePolicies.Count > 0 ||
        Snapshot.ImageDigestMirrorSets.Count > 0 || Snapshot.ImageTagMirrorSets.Count > 0 ||
        Snapshot.ConfigMaps.Any(c => $"{c.Namespace}/{c.Name}" == scope.ManagedCaConfigMap);
}

/// <summary>
/// <c>--manifests PATH</c>: reads a file or a directory tree of YAML (multi-document) and JSON
/// files, unpacks <c>kind: List</c>, keeps the watched objects and ignores the rest. Every
/// problem names the file and line; a duplicate object names both files.
/// </summary>
public sealed class ManifestLoader
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    private readonly ManifestLimits _limits;
    private readonly WatchScope _scope;
    private readonly ManifestLocations _locations = new();
    private readonly List<string> _errors = [];
    private readonly List<string> _ignored = [];
    private readonly Dictionary<(WatchedKind, string, string), string> _seen = [];
    private ImageConfig? _image;
    private ClusterVersion? _clusterVersion;
    private readonly List<ImageContentSourcePolicy> _icsps = [];
    private readonly List<ImageDigestMirrorSet> _idmss = [];
    private readonly List<ImageTagMirrorSet> _itmss = [];
    private readonly List<ConfigMap> _configMaps = [];
    private readonly List<(ConfigMap ConfigMap, string NameAt)> _caConfigMaps = [];
    private readonly List<(ConfigMap ConfigMap, string NameAt)> _unnamespaced = [];
    private string _trustedCaNameAt = "";

    private ManifestLoader(ManifestLimits limits, WatchScope scope)
    {
        _limits = limits;
        _scope = scope;
    }

    /// <summary>Loads <paramref name="path"/>; <paramref name="scope"/> says which ConfigMaps hold CAs.</summary>
    public static ManifestLoadResult Load(string path, ManifestLimits limits, WatchScope scope)
    {
        var loader = new ManifestLoader(limits, scope);
        foreach (var file in Files(path, loader._errors))
        {
            loader.LoadFile(file);
        }
        loader.CheckTrustedCaReference();
        var snapshot = new ClusterSnapshot
        {
            Image = loader._image,
            ClusterVersion = loader._clusterVersion,
            ImageContentSourcePolicies = loader._icsps,
            ImageDigestMirrorSets = loader._idmss,
            ImageTagMirrorSets = loader._itmss,
            ConfigMaps = loader._configMaps,
        };
        return new ManifestLoadResult(snapshot, loader._errors, loader._ignored) { Locations = loader._locations };
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
            var documents = Parse(file, text, bytes);
            for (var i = 0; i < documents.Count; i++)
            {
                AddDocument(new Place(file, i, documents.Count, documents[i].Lines), documents[i]);
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

    private IReadOnlyList<YamlDocument> Parse(string file, string text, byte[] bytes) =>
        file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? JsonManifestReader.Read(file, bytes.AsSpan(bytes.AsSpan().StartsWith(Utf8Bom) ? Utf8Bom.Length : 0), _limits)
            : YamlToJson.Read(file, text, _limits);

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Where a problem is: file and line, and in a file of several documents, which one.</summary>
    private sealed record Place(string File, int DocumentIndex, int DocumentCount, SourceLines Lines)
    {
        public string At(int? line, int fallback) =>
            $"{File}:{line ?? fallback}{(DocumentCount > 1 ? $" (document {DocumentIndex + 1})" : "")}";
    }

    private void AddDocument(Place place, YamlDocument document)
    {
        var location = place.At(document.Line, document.Line);
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
                var itemLine = place.Lines.ItemLine(items, i) ?? document.Line;
                if (items[i] is not JsonObject item)
                {
                    throw new ManifestException(place.At(itemLine, document.Line), $"items[{i}]: expected an object");
                }
                ObjectDecoder.TakeTypeFromList(item, listApiVersion, kind);
                AddObject(place, itemLine, $"items[{i}]: ", item);
            }
            return;
        }
        AddObject(place, document.Line, "", obj);
    }

    private void AddObject(Place place, int objectLine, string prefix, JsonObject obj)
    {
        var lines = place.Lines;
        var kindNode = obj["kind"];
        var kind = kindNode is JsonValue k && k.TryGetValue<string>(out var ks) ? ks : null;
        var apiVersion = obj["apiVersion"] is JsonValue a && a.TryGetValue<string>(out var avs) ? avs : null;
        var metadata = obj["metadata"] as JsonObject;
        var name = metadata?["name"] is JsonValue n && n.TryGetValue<string>(out var ns0) ? ns0 : null;
        var subject = name is null ? kind ?? "(no kind)" : kind is null ? $"object {GoQuote.Quote(name)}" : $"{kind}/{name}";
        WatchedKind watched;
        switch (KnownKinds.Identify(apiVersion, kind, kindPresent: kindNode is not null))
        {
            case KindIdentity.Known known:
                watched = known.Kind.Watched;
                break;
            case KindIdentity.NearMiss miss:
                _errors.Add($"{place.At(lines.KeyLine(obj, miss.Field), objectLine)}: {prefix}{subject}: {miss.Field}: {miss.Message}");
                return;
            default:
                _ignored.Add($"{place.At(objectLine, objectLine)}: {prefix}{apiVersion ?? "(no apiVersion)"} {kind ?? "(no kind)"} is not read by node-agent");
                return;
        }
        if (IgnoredSingleton(watched, name, metadata, place, objectLine, prefix, kind!))
        {
            return;
        }
        // Both checks run, so every problem of the object is reported at once; where both find
        // the same field wrong, the decoder's message (which knows the exact type) is kept.
        var problems = StrictFields.Check(obj, KindSchemas.For(watched), lines).ToList();
        KubeObject? decoded = null;
        try
        {
            decoded = ObjectDecoder.Decode(watched, obj);
        }
        catch (ObjectDecodeException e)
        {
            problems.RemoveAll(p => p.Path == e.Field || p.Path.StartsWith(e.Field + ".", StringComparison.Ordinal) || p.Path.StartsWith(e.Field + "[", StringComparison.Ordinal));
            problems.Add(new FieldProblem(e.Field, ObjectDecoder.LineOf(obj, e.Field, lines), e.Message));
        }
        if (problems.Count > 0)
        {
            foreach (var problem in problems.OrderBy(p => p.Line ?? 0))
            {
                var field = problem.Path.Length > 0 ? problem.Path + ": " : "";
                _errors.Add($"{place.At(problem.Line, objectLine)}: {prefix}{subject}: {field}{problem.Message}");
            }
            return;
        }
        var location = $"{place.At(objectLine, objectLine)}: {prefix}".TrimEnd(' ', ':');
        if (decoded!.Name.Length == 0)
        {
            _errors.Add($"{location}: {kind}: metadata.name: required");
            return;
        }
        string MetadataField(string key) => $"{place.At(metadata is null ? null : lines.KeyLine(metadata, key), objectLine)}: {prefix}";
        if (decoded is ConfigMap configMap)
        {
            _locations.Add($"ConfigMap/{configMap.Namespace}/{configMap.Name}", line => place.At(line, objectLine), obj, lines);
            AddConfigMap(configMap, location, MetadataField("name"), MetadataField("namespace"));
            return;
        }
        _locations.Add($"{kind}/{decoded.Name}", line => place.At(line, objectLine), obj, lines);
        if (!Remember(watched, "", decoded.Name, location, kind!))
        {
            return;
        }
        switch (decoded)
        {
            case ImageConfig image:
                _image = image;
                var trustedCa = (obj["spec"] as JsonObject)?["additionalTrustedCA"] as JsonObject;
                _trustedCaNameAt = place.At(trustedCa is null ? null : lines.KeyLine(trustedCa, "name"), objectLine);
                break;
            case ClusterVersion version: _clusterVersion = version; break;
            case ImageContentSourcePolicy icsp: _icsps.Add(icsp); break;
            case ImageDigestMirrorSet idms: _idmss.Add(idms); break;
            case ImageTagMirrorSet itms: _itmss.Add(itms); break;
        }
    }

    // False (and an error) when the object was defined before.
    private bool Remember(WatchedKind watched, string ns, string name, string location, string kind)
    {
        if (_seen.TryGetValue((watched, ns, name), out var first))
        {
            _errors.Add($"{location}: {kind}/{(ns.Length > 0 ? ns + "/" : "")}{name} is defined twice, here and in {first}");
            return false;
        }
        _seen[(watched, ns, name)] = location;
        return true;
    }

    // Only ConfigMaps node-agent can read CAs from are kept: those in CaNamespace and the managed
    // registry CA. One in a namespace a slip away from either is invalid input; others are ignored.
    private void AddConfigMap(ConfigMap configMap, string location, string nameAt, string namespaceAt)
    {
        var ns = configMap.Namespace;
        var subject = $"ConfigMap/{(ns.Length > 0 ? ns + "/" : "")}{configMap.Name}";
        var managed = ManagedCa();
        var namespaces = managed is null ? [_scope.CaNamespace] : new[] { _scope.CaNamespace, managed.Value.Namespace };
        if (ns == _scope.CaNamespace || (managed is { } m && ns == m.Namespace && configMap.Name == m.Name))
        {
            if (Remember(WatchedKind.ConfigMap, ns, configMap.Name, location, "ConfigMap"))
            {
                _configMaps.Add(configMap);
                _caConfigMaps.Add((configMap, nameAt));
            }
            return;
        }
        if (ns.Length > 0 && NearMiss.Closest(ns, namespaces) is { } wanted && wanted != ns)
        {
            _errors.Add($"{namespaceAt}{subject}: metadata.namespace: {GoQuote.Quote(ns)} is not a namespace node-agent reads CAs from; did you mean {GoQuote.Quote(wanted)}?");
            return;
        }
        if (managed is { } mc && ns == mc.Namespace && NearMiss.IsNearMiss(configMap.Name, mc.Name))
        {
            _errors.Add($"{nameAt}{subject}: metadata.name: {GoQuote.Quote(configMap.Name)} is not read: the registry CA ConfigMap in {mc.Namespace} is {GoQuote.Quote(mc.Name)} (ManagedCaConfigMap); did you mean {GoQuote.Quote(mc.Name)}?");
            return;
        }
        if (ns.Length == 0)
        {
            _unnamespaced.Add((configMap, nameAt));
        }
        _ignored.Add($"{location}: {subject} is ignored: CAs are read from ConfigMaps in {string.Join(" and ", namespaces)} only");
    }

    private (string Namespace, string Name)? ManagedCa()
    {
        var slash = _scope.ManagedCaConfigMap.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 ? null : (_scope.ManagedCaConfigMap[..slash], _scope.ManagedCaConfigMap[(slash + 1)..]);
    }

    // The ConfigMap Image/cluster names must exist under that name in CaNamespace; a near miss of
    // it there, or the right name without a namespace, would silently drop every CA.
    private void CheckTrustedCaReference()
    {
        var wanted = _image?.Spec?.AdditionalTrustedCA?.Name;
        if (string.IsNullOrEmpty(wanted) || _configMaps.Any(c => c.Namespace == _scope.CaNamespace && c.Name == wanted))
        {
            return;
        }
        foreach (var (configMap, nameAt) in _caConfigMaps.Where(c => c.ConfigMap.Namespace == _scope.CaNamespace && NearMiss.IsNearMiss(c.ConfigMap.Name, wanted)))
        {
            _errors.Add($"{nameAt}ConfigMap/{configMap.Namespace}/{configMap.Name}: metadata.name: Image/cluster spec.additionalTrustedCA.name is {GoQuote.Quote(wanted)} ({_trustedCaNameAt}), " +
                $"so this ConfigMap's CAs would not be installed; did you mean {GoQuote.Quote(wanted)}? (the two names must be the same)");
        }
        foreach (var (configMap, nameAt) in _unnamespaced.Where(c => c.ConfigMap.Name == wanted))
        {
            _errors.Add($"{nameAt}ConfigMap/{configMap.Name}: metadata.namespace: missing; Image/cluster spec.additionalTrustedCA.name {GoQuote.Quote(wanted)} ({_trustedCaNameAt}) " +
                $"is read from namespace {GoQuote.Quote(_scope.CaNamespace)}; did you mean namespace: {_scope.CaNamespace}?");
        }
    }

    // Only the singletons MCO reads count: Image "cluster" and ClusterVersion "version". Others are
    // ignored before decoding, so a broken object that would be ignored cannot fail the load; a
    // name a slip away from the one read ("Cluster", "cluster ") is invalid input.
    private bool IgnoredSingleton(WatchedKind kind, string? name, JsonObject? metadata, Place place, int objectLine, string prefix, string kindName)
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
        if (NearMiss.IsNearMiss(name, wanted))
        {
            var line = metadata is null ? null : place.Lines.KeyLine(metadata, "name");
            _errors.Add($"{place.At(line, objectLine)}: {prefix}{kindName}/{name}: metadata.name: only the {kindName} named {GoQuote.Quote(wanted)} is read, and {GoQuote.Quote(name)} would be ignored; did you mean {GoQuote.Quote(wanted)}?");
            return true;
        }
        _ignored.Add($"{place.At(objectLine, objectLine)}: {prefix}{kindName}/{name} is ignored: only the object named \"{wanted}\" is read");
        return true;
    }
}
