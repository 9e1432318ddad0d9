using NodeAgent.Rendering;

namespace NodeAgent.Consumer;

/// <summary>A <c>[[registry]]</c> table with the file and line it came from.</summary>
public sealed record ConfiguredRegistry(RegistryEntry Entry, string Origin, int Line)
{
    public string Where => $"{Origin}:{Line}";
}

/// <summary>A value and the file that set it last.</summary>
public sealed record FromFile<T>(T Value, string Origin);

/// <summary>
/// The registries configuration containers/image ends up with after reading the main file and its
/// drop-ins (containers-image.md §3.7, <c>updateWithConfigurationFrom</c>).
/// </summary>
public sealed record RegistriesConfiguration(
    IReadOnlyList<string> Files,
    IReadOnlyList<ConfiguredRegistry> Registries,
    FromFile<IReadOnlyList<string>>? UnqualifiedSearchRegistries,
    IReadOnlyDictionary<string, FromFile<string>> Aliases,
    FromFile<string>? ShortNameMode,
    IReadOnlyList<string> Warnings)
{
    public static RegistriesConfiguration Empty { get; } = new([], [], null, new Dictionary<string, FromFile<string>>(), null, []);

    /// <summary>
    /// Merges files in the order containers/image reads them (the main file, then each drop-in in
    /// lexical order): a later <c>[[registry]]</c> replaces the whole table with the same prefix
    /// (its mirrors are not merged); <c>unqualified-search-registries</c> is replaced whenever a
    /// later file sets it, even to <c>[]</c>; <c>short-name-mode</c> when set non-empty; aliases
    /// key by key. A drop-in in the v1 format is an error, as there.
    /// </summary>
    public static RegistriesConfiguration Merge(IEnumerable<(string Origin, RegistriesConfFile File, bool IsDropIn)> files)
    {
        var origins = new List<string>();
        var registries = new Dictionary<string, ConfiguredRegistry>(StringComparer.Ordinal);
        FromFile<IReadOnlyList<string>>? search = null;
        var aliases = new Dictionary<string, FromFile<string>>(StringComparer.Ordinal);
        FromFile<string>? shortNameMode = null;
        var warnings = new List<string>();
        foreach (var (origin, file, isDropIn) in files)
        {
            if (isDropIn && file.IsV1)
            {
                throw new RegistriesConfException(origin, null, $"registry must be in v2 format but is in v1: {origin}");
            }
            origins.Add(origin);
            foreach (var entry in file.Registries)
            {
                registries[entry.EffectivePrefix] = new ConfiguredRegistry(entry, origin, file.RegistryLines.GetValueOrDefault(entry.EffectivePrefix));
            }
            if (file.UnqualifiedSearchRegistries is { } list)
            {
                search = new FromFile<IReadOnlyList<string>>(list, origin);
            }
            if (file.ShortNameMode is { Length: > 0 } mode)
            {
                shortNameMode = new FromFile<string>(mode, origin);
            }
            foreach (var (name, value) in file.Aliases)
            {
                aliases[name] = new FromFile<string>(value, origin);
            }
            warnings.AddRange(file.IgnoredKeys.Select(key =>
                $"{origin}: {key}: not a key containers/image reads; it is ignored (a typo?)"));
        }
        // containers/image keeps the tables sorted by prefix; the order never changes which one matches.
        var sorted = registries.Values.OrderBy(r => r.Entry.EffectivePrefix, ByteOrder.Instance).ToList();
        return new RegistriesConfiguration(origins, sorted, search, aliases, shortNameMode, warnings);
    }
}
