using NodeAgent.Rendering;

namespace NodeAgent.Consumer;

/// <summary>
/// One registries.conf file (the main file or a drop-in) as containers/image loads it: the values
/// after its per-file checks, before any merge with other files.
/// </summary>
/// <param name="UnqualifiedSearchRegistries">null when the file does not set the key; an empty list when it sets <c>[]</c>.</param>
/// <param name="Registries">
/// The <c>[[registry]]</c> tables in file order, a trailing <c>/</c> trimmed from prefixes and
/// locations as containers/image does, and only the first table of a repeated prefix (later ones
/// are dropped, not an error). <see cref="RegistryEntry.Prefix"/> stays empty when the file leaves
/// it unset (<see cref="RegistryEntry.EffectivePrefix"/> is then the location), so a file
/// node-agent wrote reads back as the model it was written from.
/// </param>
/// <param name="Aliases">The <c>[aliases]</c> table, values normalised (<c>docker.io/alpine</c> → <c>docker.io/library/alpine</c>); an empty value erases an alias set by an earlier file.</param>
/// <param name="ShortNameMode">null when unset; else as written (empty, <c>enforcing</c>, <c>permissive</c> or <c>disabled</c>).</param>
public sealed record RegistriesConfFile(
    IReadOnlyList<string>? UnqualifiedSearchRegistries,
    IReadOnlyList<RegistryEntry> Registries,
    IReadOnlyDictionary<string, string> Aliases,
    string? ShortNameMode)
{
    /// <summary>The line of each kept <c>[[registry]]</c> header, by effective prefix.</summary>
    public IReadOnlyDictionary<string, int> RegistryLines { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>The file used the deprecated v1 tables (<c>[registries.search]</c> …), which drop-ins may not.</summary>
    public bool IsV1 { get; init; }

    /// <summary>
    /// Keys containers/image does not read, with their lines (<c>line 7: registry.mirror-by-digest</c>):
    /// it ignores them silently, so a typo there changes nothing.
    /// </summary>
    public IReadOnlyList<string> IgnoredKeys { get; init; } = [];
}

/// <summary>An invalid registries.conf: the file, the line when one is to blame, and containers/image's message.</summary>
public sealed class RegistriesConfException : Exception
{
    public RegistriesConfException(string origin, int? line, string detail)
        : base($"loading registries configuration {GoQuote.Quote(origin)}: {(line is null ? "" : $"line {line}: ")}{detail}")
    {
        Origin = origin;
        Line = line;
        Detail = detail;
    }

    public RegistriesConfException(string origin, TomlException inner)
        : base($"loading registries configuration {GoQuote.Quote(origin)}: {inner.Message}", inner)
    {
        Origin = origin;
        Line = inner.Line;
        Detail = inner.Message;
    }

    public string Origin { get; }

    public int? Line { get; }

    /// <summary>The message without the file and line: containers/image's own words where it has them.</summary>
    public string Detail { get; }
}

/// <summary>
/// Reads one registries.conf file with containers/image's rules (<c>pkg/sysregistriesv2</c>
/// <c>loadConfigFile</c>): TOML, v1 → v2 conversion, <c>postProcessRegistries</c>' checks,
/// short-name mode and aliases. Pure: text in, model or exception out. Where containers/image
/// stops at the first error, so does this; aliases are all reported together, as there.
/// </summary>
public static class RegistriesConfReader
{
    private static readonly HashSet<string> TopLevelKeys = new(StringComparer.Ordinal)
    {
        "unqualified-search-registries", "credential-helpers", "short-name-mode", "additional-layer-store-auth-helper",
        "aliases", "registry", "registries",
    };

    private static readonly HashSet<string> RegistryKeys = new(StringComparer.Ordinal)
    {
        "prefix", "location", "insecure", "blocked", "mirror-by-digest-only", "mirror", "pull-from-mirror",
    };

    private static readonly HashSet<string> MirrorKeys = new(StringComparer.Ordinal) { "location", "insecure", "pull-from-mirror" };

    private static readonly HashSet<string> V1Kinds = new(StringComparer.Ordinal) { "search", "insecure", "block" };

    private static readonly HashSet<string> V1Keys = new(StringComparer.Ordinal) { "registries" };

    private static readonly HashSet<string> ShortNameModes = new(StringComparer.Ordinal) { "enforcing", "permissive", "disabled" };

    public static RegistriesConfFile Parse(string text, string origin)
    {
        TomlTable root;
        try
        {
            root = TomlReader.Parse(text);
        }
        catch (TomlException e)
        {
            throw new RegistriesConfException(origin, e);
        }
        return new Reader(origin).Read(root);
    }

    // One [[registry]] as decoded, with what the checks after decoding need: lines, and the
    // pull-from-mirror key a primary must not have.
    private sealed record RawRegistry(RegistryEntry Entry, TomlTable Table, IReadOnlyList<TomlTable> MirrorTables, string? PullFromMirror);

    private sealed class Reader(string origin)
    {
        private readonly List<string> _ignored = [];
        private int? _searchLine;

        public RegistriesConfFile Read(TomlTable root)
        {
            Ignored(root, TopLevelKeys, "");
            var search = StringArray(root, "unqualified-search-registries", "");
            StringArray(root, "credential-helpers", "");
            var shortNameMode = String(root, "short-name-mode", "");
            String(root, "additional-layer-store-auth-helper", "");
            var raw = Tables(root, "registry", "").Select(Registry).ToList();
            var aliasTable = Table(root, "aliases", "");

            var isV1 = root.TryGet("registries", out var v1Entry);
            if (isV1)
            {
                if (root.Keys.Any(k => k != "registries" && TopLevelKeys.Contains(k)))
                {
                    throw Error(v1Entry.Line, "mixing sysregistry v1/v2 is not supported");
                }
                (search, raw) = ConvertV1(v1Entry);
            }

            var registries = PostProcess(raw);
            CheckConflicts(registries);
            CheckSearchRegistries(search);
            if (shortNameMode is { Length: > 0 } && !ShortNameModes.Contains(shortNameMode))
            {
                root.TryGet("short-name-mode", out var mode);
                throw Error(mode.Line, $"invalid short-name mode: {GoQuote.Quote(shortNameMode)} (valid: enforcing, permissive, disabled)");
            }
            foreach (var (entry, line) in registries)
            {
                if (ScopeRules.IsWildcard(entry.Prefix) && entry.Prefix.AsSpan().IndexOfAny("/@:") >= 0)
                {
                    throw Error(line, $"Wildcarded prefix should be in the format: *.example.com. Current prefix {GoQuote.Quote(entry.Prefix)} is incorrectly formatted");
                }
            }
            var aliases = aliasTable is null ? new Dictionary<string, string>(StringComparer.Ordinal) : Aliases(aliasTable);

            // Only the first table of a prefix counts; later ones are dropped without an error.
            var kept = new List<RegistryEntry>();
            var lines = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (entry, line) in registries)
            {
                if (lines.TryAdd(entry.EffectivePrefix, line))
                {
                    kept.Add(entry);
                }
            }
            return new RegistriesConfFile(search, kept, aliases, shortNameMode)
            {
                RegistryLines = lines,
                IsV1 = isV1,
                IgnoredKeys = _ignored,
            };
        }

        private RawRegistry Registry(TomlTable table)
        {
            Ignored(table, RegistryKeys, "registry.");
            var mirrors = new List<MirrorEndpoint>();
            var mirrorTables = new List<TomlTable>();
            foreach (var mirror in Tables(table, "mirror", "registry."))
            {
                Ignored(mirror, MirrorKeys, "registry.mirror.");
                mirrors.Add(new MirrorEndpoint(
                    String(mirror, "location", "registry.mirror.") ?? "",
                    Bool(mirror, "insecure", "registry.mirror."),
                    String(mirror, "pull-from-mirror", "registry.mirror.") ?? ""));
                mirrorTables.Add(mirror);
            }
            var entry = new RegistryEntry
            {
                Prefix = String(table, "prefix", "registry.") ?? "",
                Location = String(table, "location", "registry.") ?? "",
                Insecure = Bool(table, "insecure", "registry."),
                Blocked = Bool(table, "blocked", "registry."),
                MirrorByDigestOnly = Bool(table, "mirror-by-digest-only", "registry."),
                Mirrors = mirrors,
            };
            return new RawRegistry(entry, table, mirrorTables, String(table, "pull-from-mirror", "registry."));
        }

        // postProcessRegistries' checks, table by table, in file order.
        private List<(RegistryEntry Entry, int Line)> PostProcess(List<RawRegistry> raw)
        {
            var result = new List<(RegistryEntry, int)>(raw.Count);
            foreach (var (entry, table, mirrorTables, pullFromMirror) in raw)
            {
                var line = table.Line;
                var location = Location(entry.Location, LineOf(table, "location"));
                var prefix = entry.Prefix;
                if (prefix.Length == 0)
                {
                    if (location.Length == 0)
                    {
                        throw Error(line, "invalid condition: both location and prefix are unset");
                    }
                }
                else
                {
                    prefix = Location(prefix, LineOf(table, "prefix"));
                    if (!ScopeRules.IsWildcard(prefix) && location.Length == 0)
                    {
                        throw Error(line, "invalid condition: location is unset and prefix is not in the format: *.example.com");
                    }
                }
                var name = GoQuote.Quote(prefix.Length > 0 ? prefix : location);
                if (pullFromMirror is { Length: > 0 })
                {
                    throw Error(LineOf(table, "pull-from-mirror"), $"pull-from-mirror must not be set for a non-mirror registry {name}");
                }
                var mirrors = new List<MirrorEndpoint>(entry.Mirrors.Count);
                for (var j = 0; j < entry.Mirrors.Count; j++)
                {
                    var mirror = entry.Mirrors[j];
                    var mirrorTable = mirrorTables[j];
                    var mirrorLocation = Location(mirror.Location, LineOf(mirrorTable, "location"));
                    if (mirrorLocation.Length == 0)
                    {
                        throw Error(mirrorTable.Line, "invalid condition: mirror location is unset");
                    }
                    if (entry.MirrorByDigestOnly && mirror.PullFromMirror.Length > 0)
                    {
                        throw Error(LineOf(mirrorTable, "pull-from-mirror"),
                            $"cannot set mirror usage mirror-by-digest-only for the registry ({name}) " +
                            $"and pull-from-mirror for per-mirror ({GoQuote.Quote(mirrorLocation)}) at the same time");
                    }
                    if (mirror.PullFromMirror.Length > 0 && mirror.PullFromMirror is not (MirrorEndpoint.All or MirrorEndpoint.DigestOnly or MirrorEndpoint.TagOnly))
                    {
                        throw Error(LineOf(mirrorTable, "pull-from-mirror"),
                            $"unsupported pull-from-mirror value {GoQuote.Quote(mirror.PullFromMirror)} for mirror {GoQuote.Quote(mirrorLocation)} " +
                            $"(valid: {MirrorEndpoint.All}, {MirrorEndpoint.DigestOnly}, {MirrorEndpoint.TagOnly})");
                    }
                    mirrors.Add(mirror with { Location = mirrorLocation });
                }
                result.Add((new RegistryEntry
                {
                    Prefix = prefix,
                    Location = location,
                    Insecure = entry.Insecure,
                    Blocked = entry.Blocked,
                    MirrorByDigestOnly = entry.MirrorByDigestOnly,
                    Mirrors = mirrors,
                }, line));
            }
            return result;
        }

        // Tables sharing a location (the prefix for a wildcard without one) must agree on insecure and blocked.
        private void CheckConflicts(List<(RegistryEntry Entry, int Line)> registries)
        {
            var byLocation = new Dictionary<string, (RegistryEntry Entry, int Line)>(StringComparer.Ordinal);
            foreach (var (entry, line) in registries)
            {
                var key = entry.Location.Length > 0 ? entry.Location : entry.Prefix;
                if (!byLocation.TryAdd(key, (entry, line)))
                {
                    var first = byLocation[key];
                    var setting = first.Entry.Insecure != entry.Insecure ? "insecure" : first.Entry.Blocked != entry.Blocked ? "blocked" : null;
                    if (setting is not null)
                    {
                        throw Error(line, $"registry '{entry.Location}' is defined multiple times with conflicting '{setting}' setting (also at line {first.Line})");
                    }
                }
            }
        }

        private void CheckSearchRegistries(List<string>? search)
        {
            for (var i = 0; i < (search?.Count ?? 0); i++)
            {
                var registry = Location(search![i], _searchLine);
                if (!ScopeRules.IsRegistryHost(registry))
                {
                    throw Error(_searchLine, $"Invalid unqualified-search-registries entry {GoQuote.Quote(registry)} (expected a registry host[:port], no path)");
                }
                search[i] = registry;
            }
        }

        private static int LineOf(TomlTable table, string key) => table.TryGet(key, out var e) ? e.Line : table.Line;

        // parseLocation: a trailing "/" is dropped; http:// and https:// are refused.
        private string Location(string input, int? line)
        {
            var trimmed = input.TrimEnd('/');
            if (trimmed.StartsWith("http://", StringComparison.Ordinal) || trimmed.StartsWith("https://", StringComparison.Ordinal))
            {
                throw Error(line, $"invalid location '{input}': URI schemes are not supported");
            }
            return trimmed;
        }

        // ConvertToV2: each blocked or insecure registry becomes a table with prefix = location.
        private (List<string>? Search, List<RawRegistry> Registries) ConvertV1(TomlEntry v1)
        {
            if (v1.Value is not TomlTable table)
            {
                throw TypeError(v1, "registries", "table");
            }
            Ignored(table, V1Kinds, "registries.");
            List<string>? V1List(string kind)
            {
                var sub = Table(table, kind, "registries.");
                if (sub is null)
                {
                    return null;
                }
                Ignored(sub, V1Keys, $"registries.{kind}.");
                return StringArray(sub, "registries", $"registries.{kind}.");
            }
            var search = V1List("search");
            _searchLine = table.TryGet("search", out var s) ? s.Line : v1.Line;
            var order = new List<RegistryEntry>();
            var byLocation = new Dictionary<string, RegistryEntry>(StringComparer.Ordinal);
            RegistryEntry Get(string location)
            {
                location = Location(location, v1.Line);
                if (!byLocation.TryGetValue(location, out var entry))
                {
                    entry = new RegistryEntry { Prefix = location, Location = location };
                    byLocation[location] = entry;
                    order.Add(entry);
                }
                return entry;
            }
            foreach (var blocked in V1List("block") ?? [])
            {
                Get(blocked).Blocked = true;
            }
            foreach (var insecure in V1List("insecure") ?? [])
            {
                Get(insecure).Insecure = true;
            }
            return (search, order.Select(e => new RawRegistry(e, table, [], null)).ToList());
        }

        private Dictionary<string, string> Aliases(TomlTable table)
        {
            var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
            var errors = new List<string>();
            foreach (var name in table.Keys)
            {
                table.TryGet(name, out var entry);
                if (entry.Value is not string value)
                {
                    throw TypeError(entry, "aliases." + name, "string");
                }
                if (ShortNameError(name) is { } nameError)
                {
                    errors.Add($"line {entry.Line}: {nameError}");
                }
                if (value.Length == 0)
                {
                    aliases[name] = "";
                    continue;
                }
                if (AliasValue(value, out var normalised) is { } valueError)
                {
                    errors.Add($"line {entry.Line}: {valueError}");
                    continue;
                }
                aliases[name] = normalised;
            }
            if (errors.Count > 0)
            {
                throw Error(null, "validating short-name aliases: " + string.Join("; ", errors));
            }
            return aliases;
        }

        private static string? ShortNameError(string name)
        {
            if (!DockerReference.TryParse(name, out var reference, out var error))
            {
                return $"cannot parse short name: {GoQuote.Quote(name)}: {error}";
            }
            return reference switch
            {
                { Digest: not null } => $"invalid short name {GoQuote.Quote(name)}: must not contain digest",
                { Tag: not null } => $"invalid short name {GoQuote.Quote(name)}: must not contain tag",
                { Registry: not null } => $"invalid short name {GoQuote.Quote(name)}: must not contain registry",
                _ => null,
            };
        }

        private static string? AliasValue(string value, out string normalised)
        {
            normalised = "";
            if (!DockerReference.TryParse(value, out var reference, out var error))
            {
                return $"parsing alias {GoQuote.Quote(value)}: {error}";
            }
            if (reference.Digest is not null)
            {
                return $"invalid alias {GoQuote.Quote(value)}: must not contain digest";
            }
            if (reference.Tag is not null)
            {
                return $"invalid alias {GoQuote.Quote(value)}: must not contain tag";
            }
            if (reference.Registry is null)
            {
                return $"invalid alias {GoQuote.Quote(value)}: must contain registry and repository";
            }
            normalised = reference.Normalized().Name;
            return null;
        }

        // ---- typed access, with BurntSushi/toml's wording for a wrong type ------------------------

        private string? String(TomlTable table, string key, string path)
        {
            if (!table.TryGet(key, out var entry))
            {
                return null;
            }
            return entry.Value as string ?? throw TypeError(entry, path + key, "string");
        }

        private bool Bool(TomlTable table, string key, string path)
        {
            if (!table.TryGet(key, out var entry))
            {
                return false;
            }
            return entry.Value is bool value ? value : throw TypeError(entry, path + key, "boolean");
        }

        private List<string>? StringArray(TomlTable table, string key, string path)
        {
            if (!table.TryGet(key, out var entry))
            {
                return null;
            }
            if (entry.Value is not TomlArray array || array.Any(v => v is not string))
            {
                throw TypeError(entry, path + key, "array of strings");
            }
            if (key == "unqualified-search-registries")
            {
                _searchLine = entry.Line;
            }
            return array.Cast<string>().ToList();
        }

        private TomlTable? Table(TomlTable table, string key, string path)
        {
            if (!table.TryGet(key, out var entry))
            {
                return null;
            }
            return entry.Value as TomlTable ?? throw TypeError(entry, path + key, "table");
        }

        // [[name]] headers and an inline array of tables decode the same way.
        private IEnumerable<TomlTable> Tables(TomlTable table, string key, string path)
        {
            if (!table.TryGet(key, out var entry))
            {
                return [];
            }
            if (entry.Value is not TomlArray array || array.Any(v => v is not TomlTable))
            {
                throw TypeError(entry, path + key, "array of tables");
            }
            return array.Cast<TomlTable>();
        }

        private void Ignored(TomlTable table, HashSet<string> known, string path)
        {
            foreach (var key in table.Keys)
            {
                if (!known.Contains(key) && table.TryGet(key, out var entry))
                {
                    _ignored.Add($"line {entry.Line}: {path}{key}");
                }
            }
        }

        private RegistriesConfException TypeError(TomlEntry entry, string key, string expected) =>
            Error(entry.Line, $"(last key {GoQuote.Quote(key)}): incompatible types: TOML value has type {TomlReader.TypeName(entry.Value)}; destination has type {expected}");

        private RegistriesConfException Error(int? line, string detail) => new(origin, line, detail);
    }
}
